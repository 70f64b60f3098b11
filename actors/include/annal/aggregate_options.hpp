// Tuning of one aggregate type: snapshots, passivation and queue bounds.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace annal {

struct aggregate_options {
  /// Take a snapshot every this many events per instance (0 disables snapshots).
  uint64_t snapshot_every = 500;
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
