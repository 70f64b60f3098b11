// Internal: entries of the `stream_index` table. One entry per append ("run"): the events
// of one append have consecutive versions AND consecutive global positions, so a run is
//   key:   stream id, NUL, u64 BE version of its first event
//   value: u64 BE global position of its first event, u64 BE event count
// One index write per append instead of one per event, and a stream read walks the
// `events` table with a cursor instead of looking up each event.
#pragma once

#include <string_view>

#include "annal/expected_version.hpp"
#include "annal/layout/index_run.hpp"
#include "byte_order.hpp"

namespace annal::detail {

// The run and its value size are public (annal/layout/index_run.hpp, for the tools).
using layout::index_run;
using layout::index_value_size;

inline void encode_index_value(char* out, global_position first_position, uint64_t count) noexcept {
  store_be64(out, first_position);
  store_be64(out + 8, count);
}

/// Parses an entry of `stream_id`; false when the key belongs to another stream or the
/// entry is malformed (an empty run is malformed too).
inline bool parse_index_entry(std::string_view key, std::string_view value,
                              std::string_view stream_id, index_run& out) noexcept {
  if (!parse_stream_key(key, stream_id, out.first_version) || value.size() != index_value_size)
    return false;
  out.first_position = load_be64(value.data());
  out.count = load_be64(value.data() + 8);
  return out.count > 0 && out.first_version > 0;
}

} // namespace annal::detail
