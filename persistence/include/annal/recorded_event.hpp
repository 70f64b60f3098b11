// Events as they are appended (new_event) and as they are read back (recorded_event,
// event_view).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "annal/event_metadata.hpp"
#include "annal/expected_version.hpp"

namespace annal {

/// Nanoseconds since the Unix epoch, UTC.
using timestamp_ns = int64_t;

/// Returns the current UTC time in nanoseconds since the epoch.
timestamp_ns now_ns() noexcept;

/// An event to append: its registered type name, schema version and serialized payload.
struct new_event {
  /// Stable type name, e.g. "OrderPlaced" (1..255 bytes).
  std::string type;
  /// Schema version of `payload` (upcasters turn older versions into newer ones on read).
  uint32_t schema_version = 1;
  /// Serialized payload (cereal binary for registered types; opaque to the store).
  std::string payload;
  /// Command, correlation and causation ids.
  event_metadata metadata;
  /// UTC time of the event; 0 lets the store stamp it when appending.
  timestamp_ns timestamp = 0;
};

struct event_view;

/// An event read back from the store, owning its bytes.
struct recorded_event {
  std::string stream_id;
  stream_version version = 0;
  global_position position = 0;
  std::string type;
  uint32_t schema_version = 0;
  timestamp_ns timestamp = 0;
  event_metadata metadata;
  std::string payload;
  /// The event's shard (hash of the stream id modulo the store's shard count) and its
  /// place in that shard (1, 2, ... per shard; kept when a shard moves between nodes).
  /// Both 0 for an event of a format-2 journal not upgraded yet.
  uint16_t shard = 0;
  uint64_t shard_position = 0;
  /// True when the event was first committed on another node and copied here with its
  /// shard (event_store::import_shard, a shard move). The process managers of the node
  /// that first committed an event handle it; those of this node pass over it.
  bool imported = false;
  /// True when the stored envelope failed its checksum or did not parse. The other
  /// fields then hold what could be recovered (position always; the rest best effort)
  /// and decoding the payload yields errc::corrupt.
  bool corrupt = false;

  /// A view of this event, valid while it lives unmoved.
  event_view view() const;
};

/// A read-only view of a stored event, valid only during the callback that received it
/// (it points into LMDB's memory map, like an MDB_val). Copy what you keep.
struct event_view {
  std::string_view stream_id;
  stream_version version = 0;
  global_position position = 0;
  std::string_view type;
  uint32_t schema_version = 0;
  timestamp_ns timestamp = 0;
  std::string_view command_id;
  std::string_view correlation_id;
  std::string_view causation_id;
  std::string_view payload;
  /// As in recorded_event.
  uint16_t shard = 0;
  uint64_t shard_position = 0;
  bool imported = false;
  bool corrupt = false;

  /// Copies the view into an owning recorded_event.
  recorded_event to_owned() const;
};

} // namespace annal
