#include "shop/domain/order.hpp"

#include <set>

namespace shop {

const char* to_string(order_status s) noexcept {
  switch (s) {
    case order_status::none: return "none";
    case order_status::placed: return "placed";
    case order_status::confirmed: return "confirmed";
    case order_status::rejected: return "rejected";
    case order_status::paid: return "paid";
    case order_status::shipped: return "shipped";
    case order_status::cancelled: return "cancelled";
  }
  return "none";
}

cents order_total(const std::vector<order_line>& lines) noexcept {
  cents total = 0;
  for (const auto& l : lines) {
    if (l.quantity <= 0 || l.quantity > max_quantity || l.price_cents < 0
        || l.price_cents > max_price_cents)
      return -1;
    total += l.quantity * l.price_cents; // bounded: no overflow (see limits.hpp)
  }
  return total;
}

namespace {

using decision = annal::decision<order::event>;

std::string status_is(const order_state& s) {
  if (s.status == order_status::none)
    return "no such order";
  return std::string{"the order is "} + to_string(s.status);
}

// Why the lines of a new order are refused, or empty.
std::string lines_problem(const std::vector<order_line>& lines) {
  if (lines.empty())
    return "an order needs at least one line";
  if (lines.size() > max_order_lines)
    return "an order has at most " + std::to_string(max_order_lines) + " lines";
  std::set<std::string> seen;
  for (const auto& l : lines) {
    if (!valid_id(l.sku))
      return "invalid sku in a line";
    if (!seen.insert(l.sku).second)
      return "sku '" + l.sku + "' appears in two lines";
  }
  if (order_total(lines) < 0)
    return "a line has a quantity or price out of bounds";
  return {};
}

struct decider {
  const order_state& s;

  decision operator()(const place_order& c) const {
    if (s.status != order_status::none)
      return annal::reject("order '" + s.order_id + "' exists already");
    if (!valid_id(c.order_id) || !valid_id(c.customer_id))
      return annal::reject("invalid order or customer id");
    if (auto why = lines_problem(c.lines); !why.empty())
      return annal::reject(why);
    return order_placed{c.order_id, c.customer_id, c.lines, order_total(c.lines)};
  }

  decision operator()(const confirm_order&) const {
    switch (s.status) {
      case order_status::placed: return order_confirmed{};
      case order_status::confirmed:
      case order_status::paid:
      case order_status::shipped: return {}; // past confirmation already
      default: return annal::reject(status_is(s) + ", it cannot be confirmed");
    }
  }

  decision operator()(const reject_order& c) const {
    if (s.status == order_status::placed)
      return order_rejected{c.reason};
    if (s.status == order_status::rejected)
      return {};
    return annal::reject(status_is(s) + ", it cannot be rejected");
  }

  decision operator()(const pay_order& c) const {
    if (s.status != order_status::confirmed)
      return annal::reject(status_is(s) + ", only confirmed orders can be paid");
    if (c.amount_cents != s.total_cents)
      return annal::reject("the amount " + std::to_string(c.amount_cents)
                           + " does not equal the total " + std::to_string(s.total_cents));
    return order_paid{c.amount_cents};
  }

  decision operator()(const ship_order&) const {
    if (s.status != order_status::paid)
      return annal::reject(status_is(s) + ", only paid orders can be shipped");
    return order_shipped{};
  }

  decision operator()(const cancel_order& c) const {
    if (s.status != order_status::placed && s.status != order_status::confirmed)
      return annal::reject(status_is(s) + ", only placed or confirmed orders can be cancelled");
    if (c.reason.size() > max_reason_length)
      return annal::reject("the reason is longer than " + std::to_string(max_reason_length) + " bytes");
    return order_cancelled{c.reason};
  }
};

struct evolver {
  order_state& s;
  void operator()(const order_placed& e) const {
    s.status = order_status::placed;
    s.order_id = e.order_id;
    s.customer_id = e.customer_id;
    s.lines = e.lines;
    s.total_cents = e.total_cents;
  }
  void operator()(const order_confirmed&) const { s.status = order_status::confirmed; }
  void operator()(const order_rejected& e) const {
    s.status = order_status::rejected;
    s.reason = e.reason;
  }
  void operator()(const order_paid& e) const {
    s.status = order_status::paid;
    s.paid_cents = e.amount_cents;
  }
  void operator()(const order_shipped&) const { s.status = order_status::shipped; }
  void operator()(const order_cancelled& e) const {
    s.status = order_status::cancelled;
    s.reason = e.reason;
  }
};

} // namespace

annal::decision<order::event> order::decide(const state& s, const command& c) {
  return std::visit(decider{s}, c);
}

void order::evolve(state& s, const event& e) {
  std::visit(evolver{s}, e);
}

} // namespace shop
