// Data folders for the CLI tests, written the fast way: shop events appended straight to
// the event store (no runtime, no fsync), in a layout the tests know by heart.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "annal/event_store.hpp"
#include "annal/serialization.hpp"

namespace annal::test {

/// The standard journal (write_shop_journal), in append order:
///   product-sku-1..5    ProductCreated, ProductPriceChanged     positions 1..10 (one append each)
///   inventory-sku-1     StockRestocked                          position 11
///   order-o-1..10       OrderPlaced, OrderConfirmed, OrderPaid  positions 12..41 (an append per event)
/// Every event carries command id "cmd-<stream>-<version>" and correlation id
/// "corr-<stream>".
inline constexpr uint64_t shop_products = 5;
inline constexpr uint64_t shop_orders = 10;
inline constexpr uint64_t shop_events = shop_products * 2 + 1 + shop_orders * 3;
inline constexpr uint64_t shop_streams = shop_products + 1 + shop_orders;

/// Opens <data>/journal for writing (created when missing), without fsync.
std::unique_ptr<event_store> open_test_journal(const std::filesystem::path& data,
                                               std::size_t initial_map_size = std::size_t{64} << 20);

/// An event of a shop type as the store takes it, with the metadata described above.
template <class E>
new_event shop_event(const E& e, const std::string& stream, stream_version version) {
  new_event ne;
  ne.type = std::string{E::event_type};
  ne.payload = to_bytes(e).value();
  ne.metadata.command_id = "cmd-" + stream + "-" + std::to_string(version);
  ne.metadata.correlation_id = "corr-" + stream;
  return ne;
}

/// Appends one order's three events (placed, confirmed, paid) to order-<id>, one append
/// (one stream_index run) each.
void append_order(event_store& store, const std::string& id);

/// Writes the standard journal into <data>/journal.
void write_shop_journal(const std::filesystem::path& data);

/// A shop node's data folder written through a runtime with the shop's aggregates and
/// read models (no fulfilment): three products with stock, a price change, two orders,
/// every read model caught up. Returns the journal's last position.
global_position write_shop_folder(const std::filesystem::path& data);

/// Saves a snapshot of order-<id> at its head as the runtime would: the replayed state,
/// or (tamper) one whose total differs from what the events say.
void snapshot_order(event_store& store, const std::string& id, bool tamper = false);

} // namespace annal::test
