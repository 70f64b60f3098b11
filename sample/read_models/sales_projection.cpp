#include "projections.hpp"

#include "row_codec.hpp"
#include "shop/domain/order.hpp"
#include "shop/read_models/views.hpp"

namespace shop::detail {

annal::durable_projection make_sales_projection(const annal::event_registry& reg,
                                                const read_model_tables& tables) {
  annal::durable_projection p;
  p.options = read_model_options(sales_projection, "order");
  p.tables = {sales_table, sales_pending_table};
  auto sales = tables.sales;
  auto pending = tables.sales_pending;
  p.apply = [&reg, sales, pending](annal::read_model_txn& t, const annal::event_view& e) -> annal::status {
    auto ev = decode_event<order>(reg, e);
    if (!ev)
      return std::move(ev).error();
    auto id = entity_id(e.stream_id);
    // The lines wait in `pending` until the order is paid: a sale counts once paid, and
    // stays counted when the order ships.
    if (auto* placed = std::get_if<order_placed>(&*ev))
      return put_row(t, pending, id, placed->lines);
    if (std::holds_alternative<order_rejected>(*ev) || std::holds_alternative<order_cancelled>(*ev))
      return t.erase(pending, id);
    if (!std::holds_alternative<order_paid>(*ev))
      return {};
    auto lines = get_row<std::vector<order_line>>(t, pending, id);
    if (!lines)
      return std::move(lines).error();
    if (!*lines)
      return annal::make_error(annal::errc::corrupt, "payment of unknown order " + id);
    for (const auto& l : **lines) {
      auto row = get_row<sales_view>(t, sales, l.sku);
      if (!row)
        return std::move(row).error();
      sales_view v = *row ? std::move(**row) : sales_view{l.sku, 0, 0};
      v.units += l.quantity;
      v.revenue_cents += l.quantity * l.price_cents;
      if (auto ok = put_row(t, sales, l.sku, v); !ok)
        return ok;
    }
    return t.erase(pending, id);
  };
  return p;
}

} // namespace shop::detail
