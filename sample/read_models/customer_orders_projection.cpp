#include "projections.hpp"

#include "shop/domain/order.hpp"
#include "shop/stable_hash.hpp"

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

// The second part of a placement's key. By time: the placement's microsecond, then one of
// 1000 slots by the order id's hash, so that every node orders ties alike; a slot taken by
// another order of the same customer (same microsecond and slot) moves on to the next.
annal::result<uint64_t> placement_key(const annal::read_model_txn& t,
                                      const read_model_tables::customer_orders_table& list,
                                      const std::string& customer, const std::string& order_id,
                                      const annal::event_view& e, customer_order_ordering ordering) {
  if (ordering == customer_order_ordering::journal_position)
    return e.position;
  uint64_t key = e.timestamp / 1000 * 1000 + fnv1a(order_id) % 1000;
  for (int probe = 0; probe < 1000; ++probe, ++key) {
    auto row = list.get(t, customer_order_key{customer, key});
    if (!row)
      return std::move(row).error();
    if (!*row || (*row)->order_id == order_id)
      return key;
  }
  return annal::make_error(annal::errc::corrupt, "no free placement key for order " + order_id);
}

} // namespace

annal::durable_projection make_customer_orders_projection(const annal::event_registry& reg,
                                                          const read_model_tables& tables,
                                                          customer_order_ordering ordering) {
  auto list = tables.customer_orders;
  auto keys = tables.customer_order_keys;
  annal::durable_projection p;
  p.options = read_model_options(customer_orders_projection, "order");
  p.tables = {customer_orders_table, customer_order_keys_table};
  p.apply = annal::event_handlers<annal::read_model_txn>{reg}.on_each<order::event>(
    [list, keys, ordering](annal::read_model_txn& t, const annal::event_context& c, const auto& e) -> annal::status {
      std::string id{c.aggregate_id};
      if constexpr (std::is_same_v<std::decay_t<decltype(e)>, order_placed>) {
        // A customer's orders list oldest first.
        auto placed = placement_key(t, list, e.customer_id, id, c.event, ordering);
        if (!placed)
          return std::move(placed).error();
        customer_order_key key{e.customer_id, *placed};
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
