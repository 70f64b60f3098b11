#include "shop/read_models/queries.hpp"

#include "row_codec.hpp"

namespace shop {

using annal::read_model_txn;
using annal::result;

namespace {

// Every row of `table` decoded as a T, in key order (keys starting with `prefix`).
template <class T>
result<std::vector<T>> scan_rows(const read_model_txn& t, annal::table_id table,
                                 std::string_view prefix = {}) {
  std::vector<T> out;
  annal::status failed;
  auto ok = t.scan(table, prefix, [&](std::string_view, std::string_view value) {
    auto row = annal::from_bytes<T>(value);
    if (!row) {
      failed = std::move(row).error();
      return false;
    }
    out.push_back(std::move(*row));
    return true;
  });
  if (!ok)
    return std::move(ok).error();
  if (!failed)
    return std::move(failed).error();
  return out;
}

} // namespace

result<std::optional<product_view>> find_product(const read_model_txn& t,
                                                 const read_model_tables& tables,
                                                 std::string_view sku) {
  return detail::get_row<product_view>(t, tables.catalog, sku);
}

result<std::optional<inventory_view>> find_inventory(const read_model_txn& t,
                                                     const read_model_tables& tables,
                                                     std::string_view sku) {
  return detail::get_row<inventory_view>(t, tables.inventory, sku);
}

result<std::optional<order_view>> find_order(const read_model_txn& t,
                                             const read_model_tables& tables,
                                             std::string_view order_id) {
  return detail::get_row<order_view>(t, tables.orders, order_id);
}

result<std::vector<customer_order_view>> find_customer_orders(const read_model_txn& t,
                                                              const read_model_tables& tables,
                                                              std::string_view customer_id) {
  std::string prefix{customer_id};
  prefix.push_back('\0');
  return scan_rows<customer_order_view>(t, tables.customer_orders, prefix);
}

result<std::vector<sales_view>> sales_report(const read_model_txn& t,
                                             const read_model_tables& tables) {
  return scan_rows<sales_view>(t, tables.sales);
}

result<std::vector<product_view>> all_products(const read_model_txn& t,
                                               const read_model_tables& tables) {
  return scan_rows<product_view>(t, tables.catalog);
}

result<std::vector<inventory_view>> all_inventory(const read_model_txn& t,
                                                  const read_model_tables& tables) {
  return scan_rows<inventory_view>(t, tables.inventory);
}

result<std::vector<order_view>> all_orders(const read_model_txn& t,
                                           const read_model_tables& tables) {
  return scan_rows<order_view>(t, tables.orders);
}

order_view make_order_view(const order_state& s, annal::stream_version version) {
  return order_view{s.order_id, s.customer_id, s.status, s.lines, s.total_cents, version, s.reason};
}

} // namespace shop
