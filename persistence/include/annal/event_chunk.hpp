// A chunk of the global log copied out of its read transaction: the events' views point
// into the chunk's own storage, so that whoever applies them may take as long as it needs
// (write a read model, send commands and wait for replies) without holding a transaction
// of the journal open. An open transaction would block map growth (see lmdb_env).
#pragma once

#include <cstdint>
#include <vector>

#include "annal/recorded_event.hpp"

namespace annal {

/// Events read by event_store::read_chunk. Thread safety: none (a value).
/// The views in `events` stay valid while the chunk lives, also after a move.
class event_chunk {
public:
  event_chunk() = default;
  event_chunk(event_chunk&&) noexcept = default;
  event_chunk& operator=(event_chunk&&) noexcept = default;
  event_chunk(const event_chunk&) = delete;
  event_chunk& operator=(const event_chunk&) = delete;

  /// The events kept (those the read's filter accepted), in log order.
  const std::vector<event_view>& events() const noexcept { return events_; }
  /// How many events the read went through (kept or not).
  uint64_t read() const noexcept { return read_; }
  /// Position of the last event read (kept or not); 0 when none was read.
  global_position last_position() const noexcept { return last_; }

  // -- filled by the store -------------------------------------------------------------
  /// Reserves room for `count` events holding `bytes` bytes of strings in total.
  void reserve(std::size_t count, std::size_t bytes);
  /// Copies `e` into the chunk.
  void keep(const event_view& e);
  /// Records that the read went through an event at `position`.
  void note_read(global_position position) noexcept {
    ++read_;
    last_ = position;
  }

  /// Bytes of strings an event needs in a chunk.
  static std::size_t bytes_of(const event_view& e) noexcept;

private:
  std::string_view copy(std::string_view s);
  void make_room(std::size_t bytes);

  std::vector<event_view> events_;
  // A vector, not a string: moving it keeps its buffer (no small-string storage), so the
  // views stay valid.
  std::vector<char> storage_;
  uint64_t read_ = 0;
  global_position last_ = 0;
};

} // namespace annal
