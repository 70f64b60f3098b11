#include "projections.hpp"

#include "row_codec.hpp"
#include "shop/domain/product.hpp"
#include "shop/read_models/views.hpp"

namespace shop::detail {

annal::durable_projection make_catalog_projection(const annal::event_registry& reg,
                                                  const read_model_tables& tables) {
  annal::durable_projection p;
  p.options = read_model_options(catalog_projection, "product");
  p.tables = {catalog_table};
  auto table = tables.catalog;
  p.apply = [&reg, table](annal::read_model_txn& t, const annal::event_view& e) -> annal::status {
    auto ev = decode_event<product>(reg, e);
    if (!ev)
      return std::move(ev).error();
    auto sku = entity_id(e.stream_id);
    if (auto* created = std::get_if<product_created>(&*ev))
      return put_row(t, table, sku, product_view{sku, created->name, created->price_cents});
    auto row = get_row<product_view>(t, table, sku);
    if (!row)
      return std::move(row).error();
    if (!*row) // a price change always follows the creation in the same stream
      return annal::make_error(annal::errc::corrupt, "price change of unknown product " + sku);
    (*row)->price_cents = std::get<product_price_changed>(*ev).price_cents;
    return put_row(t, table, sku, **row);
  };
  return p;
}

} // namespace shop::detail
