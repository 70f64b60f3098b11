// Internal: the durable projections behind the shop's read models, one per file. Each
// reads the events of one category through typed handlers (annal::event_handlers, which
// decode with `reg`: it must outlive the projection) and writes only its own tables.
#pragma once

#include "annal/durable_projection.hpp"
#include "annal/event_handlers.hpp"
#include "annal/event_registry.hpp"
#include "shop/model.hpp"
#include "shop/read_models/tables.hpp"

namespace shop::detail {

/// Catalog: sku -> name and price (product events).
annal::durable_projection make_catalog_projection(const annal::event_registry& reg,
                                                  const read_model_tables& tables);

/// Inventory levels: sku -> on hand and reserved (inventory events).
annal::durable_projection make_inventory_projection(const annal::event_registry& reg,
                                                    const read_model_tables& tables);

/// Order detail: order id -> customer, status, lines, total, version (order events).
annal::durable_projection make_order_detail_projection(const annal::event_registry& reg,
                                                       const read_model_tables& tables);

/// Orders per customer: (customer, placement key) -> order id, status, total; the key
/// orders a customer's orders as `ordering` says.
annal::durable_projection make_customer_orders_projection(const annal::event_registry& reg,
                                                          const read_model_tables& tables,
                                                          customer_order_ordering ordering);

/// Sales per sku over paid (and later shipped) orders.
annal::durable_projection make_sales_projection(const annal::event_registry& reg,
                                                const read_model_tables& tables);

/// The projection options every shop read model shares: its name, a filter on one
/// category, and retries that keep trying (a read model that stops is worse than one
/// that waits for a disk).
annal::projection_options read_model_options(const char* name, const char* category);

} // namespace shop::detail
