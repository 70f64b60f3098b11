#include "projections.hpp"

#include "shop/domain/order.hpp"

namespace shop::detail {

annal::durable_projection make_sales_projection(const annal::event_registry& reg,
                                                const read_model_tables& tables) {
  using annal::event_context;
  using annal::read_model_txn;
  using annal::status;
  auto sales = tables.sales;
  auto pending = tables.sales_pending;
  // The lines wait in `pending` until the order is paid: a sale counts once paid, and
  // stays counted when the order ships.
  auto forget = [pending](read_model_txn& t, const event_context& c, const auto&) {
    return pending.erase(t, std::string{c.aggregate_id});
  };
  annal::durable_projection p;
  p.options = read_model_options(sales_projection, "order");
  p.tables = {sales_table, sales_pending_table};
  p.apply = annal::event_handlers<read_model_txn>{reg}
              .on<order_placed>([pending](read_model_txn& t, const event_context& c, const order_placed& e) {
                return pending.put(t, std::string{c.aggregate_id}, e.lines);
              })
              .on<order_rejected>(forget)
              .on<order_cancelled>(forget)
              .on<order_paid>([sales, pending](read_model_txn& t, const event_context& c, const order_paid&) -> status {
                std::string id{c.aggregate_id};
                auto lines = pending.get(t, id);
                if (!lines)
                  return std::move(lines).error();
                if (!*lines)
                  return annal::make_error(annal::errc::corrupt, "payment of unknown order " + id);
                for (const auto& l : **lines) {
                  auto row = sales.get(t, l.sku);
                  if (!row)
                    return std::move(row).error();
                  sales_view v = *row ? std::move(**row) : sales_view{l.sku, 0, 0};
                  v.units += l.quantity;
                  v.revenue_cents += l.quantity * l.price_cents;
                  if (auto ok = sales.put(t, l.sku, v); !ok)
                    return ok;
                }
                return pending.erase(t, id);
              });
  return p;
}

} // namespace shop::detail
