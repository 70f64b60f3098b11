// Fuzzes the shop's HTTP request parsing and validation (sample/http: parse_request):
// route + query + headers + body in, a typed request or an error out. Whatever the bytes,
// the parser must not crash, must answer only with the documented errors (400
// bad_request, 404 not_found, 413 payload_too_large, 415 unsupported_media_type), and
// every request it accepts must satisfy the bounds the handlers rely on. A violation is
// reported through abort().
//
// Input: a small HTTP-like text, so that seeds are readable and mutations stay useful:
//   METHOD SP PATH[?QUERY] LF
//   (NAME: VALUE LF)*
//   LF
//   BODY
// QUERY is name=value pairs separated by '&' (no decoding: the server decodes before the
// parser sees them).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "shop/domain/limits.hpp"
#include "shop/http/request_parser.hpp"

namespace {

using namespace shop::http;

[[noreturn]] void fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "fuzz_http_request: %s %s\n", what, detail.c_str());
  std::abort();
}

std::string_view next_line(std::string_view& in) {
  auto nl = in.find('\n');
  auto line = in.substr(0, nl);
  in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
  return line;
}

// Splits the fuzz input into a request_view whose strings point into `in`.
request_view split(std::string_view in) {
  request_view v;
  auto first = next_line(in);
  auto sp = first.find(' ');
  v.method = first.substr(0, sp);
  auto target = sp == std::string_view::npos ? std::string_view{} : first.substr(sp + 1);
  auto q = target.find('?');
  v.path = target.substr(0, q);
  if (q != std::string_view::npos) {
    auto query = target.substr(q + 1);
    while (!query.empty()) {
      auto amp = query.find('&');
      auto pair = query.substr(0, amp);
      query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
      auto eq = pair.find('=');
      v.query.emplace_back(pair.substr(0, eq),
                           eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    }
  }
  while (!in.empty()) {
    auto line = next_line(in);
    if (line.empty())
      break;
    auto colon = line.find(':');
    auto value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ')
      value.remove_prefix(1);
    v.headers.emplace_back(line.substr(0, colon), value);
  }
  v.body = in;
  return v;
}

void check_error(const api_error& e) {
  const char* expected = nullptr;
  switch (e.status) {
    case 400: expected = "bad_request"; break;
    case 404: expected = "not_found"; break;
    case 413: expected = "payload_too_large"; break;
    case 415: expected = "unsupported_media_type"; break;
    default: fail("undocumented status", std::to_string(e.status) + " " + e.code);
  }
  if (e.code != expected)
    fail("status and code disagree:", std::to_string(e.status) + " " + e.code);
  if (e.message.empty())
    fail("an error without a message");
  // The body must be valid JSON whatever the message quotes.
  auto body = nlohmann::json::parse(error_body(e), nullptr, false);
  if (body.is_discarded() || body["error"] != e.code)
    fail("the error body is not the documented JSON:", error_body(e));
}

void check_id(const std::string& id, const char* what) {
  if (!shop::valid_id(id))
    fail("accepted an invalid id:", std::string{what} + " '" + id + "'");
}

void check_quantity(int64_t q) {
  if (q < 1 || q > shop::max_quantity)
    fail("accepted a quantity out of bounds:", std::to_string(q));
}

void check_price(int64_t p) {
  if (p < 0 || p > shop::max_price_cents)
    fail("accepted a price out of bounds:", std::to_string(p));
}

void check_meta(const command_meta& m) {
  if (m.idempotency_key.size() > 128)
    fail("accepted an overlong idempotency key");
  for (char c : m.idempotency_key)
    if (c < 0x21 || c > 0x7e)
      fail("accepted an idempotency key with a blank or control character");
}

// What each accepted request promises its handler.
struct checker {
  const request_view& in;
  void command() const {
    if (in.method != "POST")
      fail("a command from a non-POST request");
  }
  void query() const {
    if (in.method != "GET")
      fail("a query from a non-GET request");
  }
  void operator()(const create_product_request& r) const {
    command();
    check_meta(r.meta);
    check_id(r.sku, "sku");
    if (r.name.empty() || r.name.size() > shop::max_name_length)
      fail("accepted a bad name");
    check_price(r.price_cents);
  }
  void operator()(const change_price_request& r) const {
    command();
    check_meta(r.meta);
    check_id(r.sku, "sku");
    check_price(r.price_cents);
  }
  void operator()(const restock_request& r) const {
    command();
    check_meta(r.meta);
    check_id(r.sku, "sku");
    check_quantity(r.quantity);
  }
  void operator()(const place_order_request& r) const {
    command();
    check_meta(r.meta);
    if (r.order_id)
      check_id(*r.order_id, "order_id");
    check_id(r.customer_id, "customer_id");
    if (r.lines.empty() || r.lines.size() > shop::max_order_lines)
      fail("accepted an order with a bad number of lines");
    for (std::size_t i = 0; i < r.lines.size(); ++i) {
      check_id(r.lines[i].sku, "line sku");
      check_quantity(r.lines[i].quantity);
      for (std::size_t j = 0; j < i; ++j)
        if (r.lines[j].sku == r.lines[i].sku)
          fail("accepted two lines of one sku");
    }
  }
  void operator()(const pay_order_request& r) const {
    command();
    check_meta(r.meta);
    check_id(r.order_id, "order_id");
    if (r.amount_cents < 0)
      fail("accepted a negative amount");
  }
  void operator()(const ship_order_request& r) const {
    command();
    check_meta(r.meta);
    check_id(r.order_id, "order_id");
  }
  void operator()(const cancel_order_request& r) const {
    command();
    check_meta(r.meta);
    check_id(r.order_id, "order_id");
    if (r.reason.size() > shop::max_reason_length)
      fail("accepted an overlong reason");
  }
  void operator()(const get_product_request& r) const {
    query();
    check_id(r.sku, "sku");
  }
  void operator()(const get_inventory_request& r) const {
    query();
    check_id(r.sku, "sku");
  }
  void operator()(const get_order_request& r) const {
    query();
    check_id(r.order_id, "order_id");
    if (r.at_version && *r.at_version == 0)
      fail("accepted at_version 0");
  }
  void operator()(const get_customer_orders_request& r) const {
    query();
    check_id(r.customer_id, "customer_id");
  }
  void operator()(const get_sales_request&) const { query(); }
  void operator()(const get_stream_events_request& r) const {
    query();
    if (r.stream.empty() || r.stream.size() > 255 || r.stream.find('\0') != std::string::npos)
      fail("accepted an invalid stream id");
    if (r.from == 0 || r.limit == 0 || r.limit > max_event_page)
      fail("accepted a bad page");
  }
  void operator()(const get_events_request& r) const {
    query();
    if (r.limit == 0 || r.limit > max_event_page)
      fail("accepted a bad page");
  }
  void operator()(const get_projections_request&) const { query(); }
  void operator()(const get_health_request&) const { query(); }
  void operator()(const get_metrics_request&) const { query(); }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view input{reinterpret_cast<const char*>(data), size};
  auto view = split(input);
  auto result = parse_request(view);
  if (auto* e = std::get_if<api_error>(&result)) {
    check_error(*e);
    return 0;
  }
  const auto& request = std::get<api_request>(result);
  std::visit(checker{view}, request);
  if (is_command(request) != (view.method == "POST"))
    fail("is_command disagrees with the method");
  if (request_name(request) == nullptr)
    fail("a request without a name");
  return 0;
}
