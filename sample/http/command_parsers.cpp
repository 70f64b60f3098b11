// The bodies of the commands: fields, types and bounds.
#include "parsers.hpp"

#include "shop/domain/limits.hpp"

namespace shop::http::detail {

std::optional<api_error> check_id(const std::string& id, const char* what) {
  if (!valid_id(id))
    return bad_request(std::string{what} + " must be 1-64 characters of [A-Za-z0-9._-]");
  return std::nullopt;
}

namespace {

// The lines of an order: 1..max_order_lines objects {sku, quantity}; a repeated sku is
// merged into its first line.
std::optional<api_error> read_lines(const json& body, std::vector<line_request>& out) {
  auto i = body.find("lines");
  if (i == body.end() || i->is_null())
    return bad_request("missing field 'lines'");
  if (!i->is_array())
    return bad_request("field 'lines' must be an array");
  if (i->empty())
    return bad_request("an order needs at least one line");
  if (i->size() > max_order_lines)
    return bad_request("an order has at most " + std::to_string(max_order_lines) + " lines");
  for (std::size_t n = 0; n < i->size(); ++n) {
    const auto& line = (*i)[n];
    auto where = "lines[" + std::to_string(n) + "]";
    if (!line.is_object())
      return bad_request(where + " must be an object");
    line_request l;
    if (auto e = get_id(line, "sku", true, l.sku))
      return bad_request(where + ": " + e->message);
    auto q = line.find("quantity");
    if (q == line.end() || q->is_null())
      return bad_request(where + ": missing field 'quantity'");
    if (auto e = as_int(*q, where + ".quantity", 1, max_quantity, l.quantity))
      return e;
    bool merged = false;
    for (auto& prev : out)
      if (prev.sku == l.sku) {
        if (prev.quantity > max_quantity - l.quantity)
          return bad_request("the quantity of sku '" + l.sku + "' exceeds "
                             + std::to_string(max_quantity));
        prev.quantity += l.quantity;
        merged = true;
      }
    if (!merged)
      out.push_back(std::move(l));
  }
  return std::nullopt;
}

} // namespace

parse_result parse_create_product(const json& body, command_meta meta, const captures&) {
  create_product_request r{std::move(meta), {}, {}, 0};
  if (auto e = get_id(body, "sku", true, r.sku))
    return *e;
  if (auto e = get_string(body, "name", true, max_name_length, r.name))
    return *e;
  if (auto e = get_int(body, "price_cents", 0, max_price_cents, r.price_cents))
    return *e;
  return r;
}

parse_result parse_change_price(const json& body, command_meta meta, const captures& c) {
  change_price_request r{std::move(meta), c.at(0), 0};
  if (auto e = check_id(r.sku, "the sku"))
    return *e;
  if (auto e = get_int(body, "price_cents", 0, max_price_cents, r.price_cents))
    return *e;
  return r;
}

parse_result parse_restock(const json& body, command_meta meta, const captures& c) {
  restock_request r{std::move(meta), c.at(0), 0};
  if (auto e = check_id(r.sku, "the sku"))
    return *e;
  if (auto e = get_int(body, "quantity", 1, max_quantity, r.quantity))
    return *e;
  return r;
}

parse_result parse_place_order(const json& body, command_meta meta, const captures&) {
  place_order_request r{std::move(meta), std::nullopt, {}, {}};
  std::string id;
  if (auto e = get_id(body, "order_id", false, id))
    return *e;
  if (!id.empty())
    r.order_id = std::move(id);
  if (auto e = get_id(body, "customer_id", true, r.customer_id))
    return *e;
  if (auto e = read_lines(body, r.lines))
    return *e;
  return r;
}

parse_result parse_pay_order(const json& body, command_meta meta, const captures& c) {
  pay_order_request r{std::move(meta), c.at(0), 0};
  if (auto e = check_id(r.order_id, "the order id"))
    return *e;
  // Any non-negative amount is well-formed; whether it equals the total is a domain rule.
  if (auto e = get_int(body, "amount_cents", 0, max_price_cents * max_quantity, r.amount_cents))
    return *e;
  return r;
}

parse_result parse_ship_order(const json&, command_meta meta, const captures& c) {
  ship_order_request r{std::move(meta), c.at(0)};
  if (auto e = check_id(r.order_id, "the order id"))
    return *e;
  return r;
}

parse_result parse_cancel_order(const json& body, command_meta meta, const captures& c) {
  cancel_order_request r{std::move(meta), c.at(0), "cancelled by the customer"};
  if (auto e = check_id(r.order_id, "the order id"))
    return *e;
  if (auto e = get_string(body, "reason", false, max_reason_length, r.reason))
    return *e;
  return r;
}

} // namespace shop::http::detail
