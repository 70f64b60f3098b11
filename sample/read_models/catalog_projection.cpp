#include "projections.hpp"

#include "shop/domain/product.hpp"

namespace shop::detail {

annal::durable_projection make_catalog_projection(const annal::event_registry& reg,
                                                  const read_model_tables& tables) {
  using annal::event_context;
  using annal::read_model_txn;
  auto table = tables.catalog;
  annal::durable_projection p;
  p.options = read_model_options(catalog_projection, "product");
  p.tables = {catalog_table};
  p.apply = annal::event_handlers<read_model_txn>{reg}
              .on<product_created>([table](read_model_txn& t, const event_context& c, const product_created& e) {
                std::string sku{c.aggregate_id};
                return table.put(t, sku, product_view{sku, e.name, e.price_cents});
              })
              .on<product_price_changed>(
                [table](read_model_txn& t, const event_context& c, const product_price_changed& e) -> annal::status {
                  auto row = table.get(t, std::string{c.aggregate_id});
                  if (!row)
                    return std::move(row).error();
                  if (!*row) // a price change always follows the creation in the same stream
                    return annal::make_error(annal::errc::corrupt,
                                             "price change of unknown product " + std::string{c.aggregate_id});
                  (*row)->price_cents = e.price_cents;
                  return table.put(t, (*row)->sku, **row);
                });
  return p;
}

} // namespace shop::detail
