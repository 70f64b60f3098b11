// The shop's model as one unit: its aggregates, read models and fulfilment process, for
// the node and for tools that work on a shop's data offline (rebuilding read models, say).
//
//   auto rt = annal::runtime::open(cfg);
//   shop::register_aggregates(**rt);
//   shop::add_read_models(**rt);
//   shop::add_fulfilment(**rt, {std::chrono::minutes(15)});   // only where orders are processed
//   (*rt)->start();
//
// Everything here is called once, before runtime::start(), from one thread.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "annal/durable_projection.hpp"
#include "annal/runtime.hpp"
#include "shop/fulfilment.hpp"
#include "shop/read_models/tables.hpp"

namespace shop {

/// Hosts the product, inventory and order aggregates in `rt` (their event types land in
/// its registry), with at most `max_live_orders` order instances live (the least recently
/// used are passivated). Errors: bad_request after start(), already_exists when called
/// twice.
annal::status register_aggregates(annal::runtime& rt, std::size_t max_live_orders = 100000);

/// Registers the durable read-model projections: catalog, inventory levels, order detail,
/// orders per customer and sales per sku (see read_model_names()). Needs the aggregates'
/// event types, so call register_aggregates first. Errors: bad_request (after start(), or
/// registered twice), io_error (opening the tables).
annal::status add_read_models(annal::runtime& rt);

/// How the orders-per-customer list orders a customer's orders. `journal_position`: by the
/// placement's position in the node's journal (one node). `placement_time`: by the
/// placement's timestamp (µs), ties by a hash of the order id — positions of different
/// owners' journals are unrelated, so a cluster's read models order by time instead.
enum class customer_order_ordering { journal_position, placement_time };

/// The five read models as projection specs over `tables` (decoding with `reg`, which
/// must outlive them), for a runtime (add_read_models) or a cluster projection over all
/// shards (the node's cluster mode).
std::vector<annal::durable_projection> read_model_specs(const annal::event_registry& reg,
                                                        const read_model_tables& tables,
                                                        customer_order_ordering ordering);

/// Names of the read-model projections add_read_models registers (for await_projection,
/// rebuild_projection and friends).
std::vector<std::string> read_model_names();

} // namespace shop
