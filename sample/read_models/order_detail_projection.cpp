#include "projections.hpp"

#include "shop/domain/order.hpp"

namespace shop::detail {

annal::durable_projection make_order_detail_projection(const annal::event_registry& reg,
                                                       const read_model_tables& tables) {
  auto table = tables.orders;
  annal::durable_projection p;
  p.options = read_model_options(order_detail_projection, "order");
  p.tables = {orders_table};
  p.apply = annal::event_handlers<annal::read_model_txn>{reg}.on_each<order::event>(
    [table](annal::read_model_txn& t, const annal::event_context& c, const auto& e) -> annal::status {
      std::string id{c.aggregate_id};
      // The aggregate's own evolve keeps the view and the aggregate in step.
      order_state s;
      if constexpr (!std::is_same_v<std::decay_t<decltype(e)>, order_placed>) {
        auto row = table.get(t, id);
        if (!row)
          return std::move(row).error();
        if (!*row)
          return annal::make_error(annal::errc::corrupt, "event of unknown order " + id);
        auto& v = **row;
        s = order_state{v.status, v.order_id, v.customer_id, std::move(v.lines), v.total_cents, 0, v.reason};
      }
      order::evolve(s, order::event{e});
      return table.put(t, id, make_order_view(s, c.event.version));
    });
  return p;
}

} // namespace shop::detail
