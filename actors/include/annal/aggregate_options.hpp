// Tuning of one aggregate type: snapshots, passivation and queue bounds.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace annal {

struct aggregate_options {
  /// Take a snapshot every this many events per instance (0 disables snapshots).
  uint64_t snapshot_every = 500;
  /// After a snapshot larger than this, the next one waits (beyond snapshot_every) until
  /// the instance's events since hold as many bytes as it did (approximate_bytes): a state that keeps growing
  /// (a sku's open reservations) is snapshotted less often as it grows, so its snapshots
  /// never write more than the events whose replay they spare. 0: snapshot_every alone.
  std::size_t large_snapshot_bytes = std::size_t{64} << 10;
  /// Passivate an instance after this long without commands.
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(2)};
  /// At most this many live instances; the least recently used is passivated first.
  std::size_t max_live = 100000;
  /// Commands waiting per instance (while it rehydrates, or its pipeline is full); more
  /// fail fast with errc::overloaded.
  std::size_t max_waiting = 1024;
  /// Appends in flight per instance (pipelining depth).
  std::size_t max_in_flight = 256;
  /// Command ids remembered per instance for idempotency.
  std::size_t recent_command_ids = 128;
  /// Bytes of passivated instances' states kept in memory (serialized, least recently
  /// passivated dropped first), so that an activation reads only the events after its
  /// state instead of replaying its stream; 0 keeps none.
  std::size_t passivated_state_bytes = std::size_t{64} << 20;
};

} // namespace annal
