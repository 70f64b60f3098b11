#include "projections.hpp"

#include "row_codec.hpp"
#include "shop/domain/order.hpp"
#include "shop/read_models/views.hpp"

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
  annal::durable_projection p;
  p.options = read_model_options(customer_orders_projection, "order");
  p.tables = {customer_orders_table, customer_order_keys_table};
  auto list = tables.customer_orders;
  auto keys = tables.customer_order_keys;
  p.apply = [&reg, list, keys](annal::read_model_txn& t, const annal::event_view& e) -> annal::status {
    auto ev = decode_event<order>(reg, e);
    if (!ev)
      return std::move(ev).error();
    auto id = entity_id(e.stream_id);
    if (auto* placed = std::get_if<order_placed>(&*ev)) {
      // Keyed by the placement's position: a customer's orders list oldest first.
      std::string key = placed->customer_id;
      key.push_back('\0');
      key += big_endian(e.position);
      if (auto ok = t.put(keys, id, key); !ok)
        return ok;
      return put_row(t, list, key, customer_order_view{id, order_status::placed, placed->total_cents});
    }
    auto key = t.get(keys, id);
    if (!key)
      return std::move(key).error();
    if (!*key)
      return annal::make_error(annal::errc::corrupt, "event of unknown order " + id);
    std::string k{**key}; // the view dies with the next write
    auto row = get_row<customer_order_view>(t, list, k);
    if (!row)
      return std::move(row).error();
    if (!*row)
      return annal::make_error(annal::errc::corrupt, "order " + id + " is missing from its customer's list");
    (*row)->status = std::visit(status_after{}, *ev);
    return put_row(t, list, k, **row);
  };
  return p;
}

} // namespace shop::detail
