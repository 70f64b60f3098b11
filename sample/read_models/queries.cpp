#include "shop/read_models/queries.hpp"

namespace shop {

using annal::read_model_txn;
using annal::result;

result<std::optional<product_view>> find_product(const read_model_txn& t,
                                                 const read_model_tables& tables,
                                                 std::string_view sku) {
  return tables.catalog.get(t, std::string{sku});
}

result<std::optional<inventory_view>> find_inventory(const read_model_txn& t,
                                                     const read_model_tables& tables,
                                                     std::string_view sku) {
  return tables.inventory.get(t, std::string{sku});
}

result<std::optional<order_view>> find_order(const read_model_txn& t,
                                             const read_model_tables& tables,
                                             std::string_view order_id) {
  return tables.orders.get(t, std::string{order_id});
}

result<std::vector<customer_order_view>> find_customer_orders(const read_model_txn& t,
                                                              const read_model_tables& tables,
                                                              std::string_view customer_id) {
  return tables.customer_orders.rows(t, annal::key_prefix(std::string{customer_id}));
}

result<std::vector<sales_view>> sales_report(const read_model_txn& t,
                                             const read_model_tables& tables) {
  return tables.sales.rows(t);
}

result<std::vector<product_view>> all_products(const read_model_txn& t,
                                               const read_model_tables& tables) {
  return tables.catalog.rows(t);
}

result<std::vector<inventory_view>> all_inventory(const read_model_txn& t,
                                                  const read_model_tables& tables) {
  return tables.inventory.rows(t);
}

result<std::vector<order_view>> all_orders(const read_model_txn& t,
                                           const read_model_tables& tables) {
  return tables.orders.rows(t);
}

order_view make_order_view(const order_state& s, annal::stream_version version) {
  return order_view{s.order_id, s.customer_id, s.status, s.lines, s.total_cents, version, s.reason};
}

} // namespace shop
