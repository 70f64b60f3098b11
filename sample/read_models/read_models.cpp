// Registration of the shop's read models.
#include "projections.hpp"
#include "shop/model.hpp"

namespace shop {

namespace detail {

annal::projection_options read_model_options(const char* name, const char* category) {
  annal::projection_options o;
  o.name = name;
  o.filter = annal::event_filter::categories({category});
  o.on_failure = annal::failure_policy::stop;
  o.max_retries = 1000; // the backoff doubles up to ~50 s between attempts
  o.backoff = std::chrono::milliseconds(20);
  return o;
}

} // namespace detail

std::vector<std::string> read_model_names() {
  return {catalog_projection, inventory_projection, order_detail_projection,
          customer_orders_projection, sales_projection};
}

annal::status add_read_models(annal::runtime& rt) {
  auto tables = open_read_model_tables(rt.read_models());
  if (!tables)
    return std::move(tables).error();
  const auto& reg = rt.registry();
  for (auto make : {detail::make_catalog_projection, detail::make_inventory_projection,
                    detail::make_order_detail_projection,
                    detail::make_customer_orders_projection, detail::make_sales_projection})
    if (auto ok = rt.add_projection(make(reg, *tables)); !ok)
      return ok;
  return {};
}

} // namespace shop
