// Reads of the shop's read models, inside a read-model transaction (runtime::query runs
// them once the projection reached the position the caller asked for). Each returns an
// error only when the store fails (io_error) or a row does not decode (corrupt).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "annal/read_model_store.hpp"
#include "shop/read_models/tables.hpp"
#include "shop/read_models/views.hpp"

namespace shop {

/// The catalog entry of `sku`, or none.
annal::result<std::optional<product_view>> find_product(const annal::read_model_txn& t,
                                                        const read_model_tables& tables,
                                                        std::string_view sku);

/// The stock of `sku`, or none when it was never restocked.
annal::result<std::optional<inventory_view>> find_inventory(const annal::read_model_txn& t,
                                                            const read_model_tables& tables,
                                                            std::string_view sku);

/// The order `order_id`, or none.
annal::result<std::optional<order_view>> find_order(const annal::read_model_txn& t,
                                                    const read_model_tables& tables,
                                                    std::string_view order_id);

/// The orders of `customer_id`, oldest first (empty for an unknown customer).
annal::result<std::vector<customer_order_view>> find_customer_orders(
  const annal::read_model_txn& t, const read_model_tables& tables, std::string_view customer_id);

/// Sales per sku (paid and shipped orders), by sku.
annal::result<std::vector<sales_view>> sales_report(const annal::read_model_txn& t,
                                                    const read_model_tables& tables);

/// Every catalog entry and every stock row, by sku (for comparisons and reports).
annal::result<std::vector<product_view>> all_products(const annal::read_model_txn& t,
                                                      const read_model_tables& tables);
annal::result<std::vector<inventory_view>> all_inventory(const annal::read_model_txn& t,
                                                         const read_model_tables& tables);
/// Every order, by id.
annal::result<std::vector<order_view>> all_orders(const annal::read_model_txn& t,
                                                  const read_model_tables& tables);

} // namespace shop
