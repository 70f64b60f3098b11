// The read-model tables of the shop and the projections that own them. Each table
// belongs to exactly one projection, which clears it when it is rebuilt.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "annal/read_model_table.hpp"
#include "shop/read_models/views.hpp"

namespace shop {

/// Projection names.
inline constexpr const char* catalog_projection = "catalog";
inline constexpr const char* inventory_projection = "inventory_levels";
inline constexpr const char* order_detail_projection = "order_detail";
inline constexpr const char* customer_orders_projection = "customer_orders";
inline constexpr const char* sales_projection = "sales";

/// Table names (owner in brackets).
inline constexpr const char* catalog_table = "shop.catalog";                  // [catalog] sku -> product_view
inline constexpr const char* inventory_table = "shop.inventory";              // [inventory_levels] sku -> inventory_view
inline constexpr const char* orders_table = "shop.orders";                    // [order_detail] order id -> order_view
inline constexpr const char* customer_orders_table = "shop.customer_orders";  // [customer_orders] customer \0 BE64(position) -> customer_order_view
inline constexpr const char* customer_order_keys_table = "shop.customer_order_keys"; // [customer_orders] order id -> key above
inline constexpr const char* sales_table = "shop.sales";                      // [sales] sku -> sales_view
inline constexpr const char* sales_pending_table = "shop.sales_pending";      // [sales] order id -> lines of unpaid orders

/// (customer, placement key: the placement's journal position, or its time in a cluster):
/// customer_orders lists a customer's orders oldest first.
using customer_order_key = std::pair<std::string, uint64_t>;

/// Every table, typed by key and row (rows are cereal binary; keys sort by value).
struct read_model_tables {
  using customer_orders_table = annal::read_model_table<customer_order_key, customer_order_view>;
  annal::read_model_table<std::string, product_view> catalog;
  annal::read_model_table<std::string, inventory_view> inventory;
  annal::read_model_table<std::string, order_view> orders;
  customer_orders_table customer_orders;
  annal::read_model_table<std::string, customer_order_key, annal::key_rows<customer_order_key>>
    customer_order_keys;
  annal::read_model_table<std::string, sales_view> sales;
  annal::read_model_table<std::string, std::vector<order_line>> sales_pending;
};

/// Opens (creating unless the store is read-only) every table. Errors: those of
/// read_model_store::table (not_found for a read-only store without them, io_error).
annal::result<read_model_tables> open_read_model_tables(annal::read_model_store& store);

} // namespace shop
