#include "projections.hpp"

#include "shop/domain/order.hpp"

namespace shop::detail {

namespace {

// The status an order event leads to (placed for OrderPlaced).
struct status_after {
  order_status operator()(const order_placed&) const { return order_status::placed; }
  order_status operator()(const order_confirmed&) const { return order_status::confirmed; }
  order_status operator()(const order_rejected&) const { return order_status::rejected; }
  order_status operator()(const order_paid&) const { return order_status::paid; }
  order_status operator()(const order_shipped&) const { return order_status::shipped; }
  order_status operator()(const order_cancelled&) const { return order_status::cancelled; }
};

} // namespace

annal::durable_projection make_customer_orders_projection(const annal::event_registry& reg,
                                                          const read_model_tables& tables) {
  auto list = tables.customer_orders;
  auto keys = tables.customer_order_keys;
  annal::durable_projection p;
  p.options = read_model_options(customer_orders_projection, "order");
  p.tables = {customer_orders_table, customer_order_keys_table};
  p.apply = annal::event_handlers<annal::read_model_txn>{reg}.on_each<order::event>(
    [list, keys](annal::read_model_txn& t, const annal::event_context& c, const auto& e) -> annal::status {
      std::string id{c.aggregate_id};
      if constexpr (std::is_same_v<std::decay_t<decltype(e)>, order_placed>) {
        // Keyed by the placement's position: a customer's orders list oldest first.
        customer_order_key key{e.customer_id, c.event.position};
        if (auto ok = keys.put(t, id, key); !ok)
          return ok;
        return list.put(t, key, customer_order_view{id, order_status::placed, e.total_cents});
      } else {
        auto key = keys.get(t, id);
        if (!key)
          return std::move(key).error();
        if (!*key)
          return annal::make_error(annal::errc::corrupt, "event of unknown order " + id);
        auto row = list.get(t, **key);
        if (!row)
          return std::move(row).error();
        if (!*row)
          return annal::make_error(annal::errc::corrupt, "order " + id + " is missing from its customer's list");
        (*row)->status = status_after{}(e);
        return list.put(t, **key, **row);
      }
    });
  return p;
}

} // namespace shop::detail
