#include "shop/read_models/tables.hpp"

namespace shop {

namespace {

template <class Table>
annal::status open_table(annal::read_model_store& store, const char* name, Table& out) {
  auto t = Table::open(store, name);
  if (!t)
    return std::move(t).error();
  out = *t;
  return {};
}

} // namespace

annal::result<read_model_tables> open_read_model_tables(annal::read_model_store& store) {
  read_model_tables out;
  for (auto ok : {open_table(store, catalog_table, out.catalog),
                  open_table(store, inventory_table, out.inventory),
                  open_table(store, orders_table, out.orders),
                  open_table(store, customer_orders_table, out.customer_orders),
                  open_table(store, customer_order_keys_table, out.customer_order_keys),
                  open_table(store, sales_table, out.sales),
                  open_table(store, sales_pending_table, out.sales_pending)})
    if (!ok)
      return std::move(ok).error();
  return out;
}

} // namespace shop
