#include "shop/domain/inventory.hpp"

namespace shop {

namespace {

using decision = annal::decision<inventory::event>;

struct decider {
  const inventory_state& s;

  decision operator()(const restock& c) const {
    if (c.quantity <= 0 || c.quantity > max_quantity)
      return annal::reject("quantity must be 1-" + std::to_string(max_quantity));
    if (s.on_hand > max_on_hand - c.quantity)
      return annal::reject("stock on hand would exceed " + std::to_string(max_on_hand));
    return stock_restocked{c.quantity};
  }

  decision operator()(const reserve_stock& c) const {
    if (!valid_id(c.order_id))
      return annal::reject("invalid order id");
    if (c.quantity <= 0 || c.quantity > max_quantity)
      return annal::reject("quantity must be 1-" + std::to_string(max_quantity));
    if (auto i = s.reservations.find(c.order_id); i != s.reservations.end()) {
      if (i->second == c.quantity)
        return {}; // the same reservation again: it holds already
      return annal::reject("order '" + c.order_id + "' already holds "
                           + std::to_string(i->second) + " units");
    }
    if (s.closed.count(c.order_id) > 0)
      return annal::reject("the reservation of order '" + c.order_id + "' was closed");
    if (s.available() < c.quantity)
      return annal::reject("insufficient stock: " + std::to_string(s.available())
                           + " available, " + std::to_string(c.quantity) + " requested");
    return stock_reserved{c.order_id, c.quantity};
  }

  decision operator()(const release_stock& c) const {
    auto i = s.reservations.find(c.order_id);
    if (i == s.reservations.end())
      return {}; // nothing held (never reserved, or closed already)
    return stock_released{c.order_id, i->second};
  }

  decision operator()(const ship_stock& c) const {
    auto i = s.reservations.find(c.order_id);
    if (i != s.reservations.end())
      return stock_shipped{c.order_id, i->second};
    auto closed = s.closed.find(c.order_id);
    if (closed != s.closed.end() && closed->second == closed_as::shipped)
      return {}; // shipped already
    return annal::reject("order '" + c.order_id + "' holds no reservation");
  }
};

void close(inventory_state& s, const std::string& order_id, closed_as how) {
  auto i = s.reservations.find(order_id);
  if (i != s.reservations.end()) {
    s.reserved -= i->second;
    s.reservations.erase(i);
  }
  if (s.closed.emplace(order_id, how).second)
    s.closed_order.push_back(order_id);
  while (s.closed_order.size() > inventory::closed_memory) {
    s.closed.erase(s.closed_order.front());
    s.closed_order.pop_front();
  }
}

struct evolver {
  inventory_state& s;
  void operator()(const stock_restocked& e) const { s.on_hand += e.quantity; }
  void operator()(const stock_reserved& e) const {
    s.reservations[e.order_id] += e.quantity;
    s.reserved += e.quantity;
  }
  void operator()(const stock_released& e) const { close(s, e.order_id, closed_as::released); }
  void operator()(const stock_shipped& e) const {
    s.on_hand -= e.quantity;
    close(s, e.order_id, closed_as::shipped);
  }
};

} // namespace

annal::decision<inventory::event> inventory::decide(const state& s, const command& c) {
  return std::visit(decider{s}, c);
}

void inventory::evolve(state& s, const event& e) {
  std::visit(evolver{s}, e);
}

} // namespace shop
