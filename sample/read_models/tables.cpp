#include "shop/read_models/tables.hpp"

namespace shop {

annal::result<read_model_tables> open_read_model_tables(annal::read_model_store& store) {
  read_model_tables out;
  struct entry {
    const char* name;
    annal::table_id* id;
  };
  const entry entries[] = {
    {catalog_table, &out.catalog},
    {inventory_table, &out.inventory},
    {orders_table, &out.orders},
    {customer_orders_table, &out.customer_orders},
    {customer_order_keys_table, &out.customer_order_keys},
    {sales_table, &out.sales},
    {sales_pending_table, &out.sales_pending},
  };
  for (const auto& e : entries) {
    auto id = store.table(e.name);
    if (!id)
      return std::move(id).error();
    *e.id = *id;
  }
  return out;
}

} // namespace shop
