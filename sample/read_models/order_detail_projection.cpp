#include "projections.hpp"

#include "row_codec.hpp"
#include "shop/domain/order.hpp"
#include "shop/read_models/views.hpp"

namespace shop::detail {

annal::durable_projection make_order_detail_projection(const annal::event_registry& reg,
                                                       const read_model_tables& tables) {
  annal::durable_projection p;
  p.options = read_model_options(order_detail_projection, "order");
  p.tables = {orders_table};
  auto table = tables.orders;
  p.apply = [&reg, table](annal::read_model_txn& t, const annal::event_view& e) -> annal::status {
    auto ev = decode_event<order>(reg, e);
    if (!ev)
      return std::move(ev).error();
    auto id = entity_id(e.stream_id);
    // The aggregate's own evolve keeps the view and the aggregate in step.
    order_state s;
    if (!std::holds_alternative<order_placed>(*ev)) {
      auto row = get_row<order_view>(t, table, id);
      if (!row)
        return std::move(row).error();
      if (!*row)
        return annal::make_error(annal::errc::corrupt, "event of unknown order " + id);
      auto& v = **row;
      s = order_state{v.status, v.order_id, v.customer_id, std::move(v.lines), v.total_cents, 0, v.reason};
    }
    order::evolve(s, *ev);
    return put_row(t, table, id, make_order_view(s, e.version));
  };
  return p;
}

} // namespace shop::detail
