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
  // Under load, one read-model transaction (and fsync) per 20 ms instead of one per
  // journal commit: the disk's syncs go to the journal, which commands wait for
  // (shop-inproc-bench --mix commands, durable, 10-s runs: 12.3-13.0 k req/s at 0,
  // 13.6-16.2 k at 20 ms). Queries waiting for a position wait up to that much longer
  // while commands keep coming.
  o.apply_interval = std::chrono::milliseconds(20);
  return o;
}

} // namespace detail

std::vector<std::string> read_model_names() {
  return {catalog_projection, inventory_projection, order_detail_projection,
          customer_orders_projection, sales_projection};
}

std::vector<annal::durable_projection> read_model_specs(const annal::event_registry& reg,
                                                        const read_model_tables& tables,
                                                        customer_order_ordering ordering) {
  return {detail::make_catalog_projection(reg, tables), detail::make_inventory_projection(reg, tables),
          detail::make_order_detail_projection(reg, tables),
          detail::make_customer_orders_projection(reg, tables, ordering),
          detail::make_sales_projection(reg, tables)};
}

annal::status add_read_models(annal::runtime& rt) {
  auto tables = open_read_model_tables(rt.read_models());
  if (!tables)
    return std::move(tables).error();
  for (auto& spec : read_model_specs(rt.registry(), *tables, customer_order_ordering::journal_position))
    if (auto ok = rt.add_projection(std::move(spec)); !ok)
      return ok;
  return {};
}

} // namespace shop
