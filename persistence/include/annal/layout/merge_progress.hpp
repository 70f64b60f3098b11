// How far the journal's stored stream index reaches (format 3): meta "indexed_through"
// (u64 BE) for every stream and, while an index merge is between its slices, meta
// "merge_partial": u64 BE position P, then a stream id K — the streams whose id sorts at
// or before K (bytewise) are stored through P.
#pragma once

#include <string>
#include <string_view>

#include "annal/expected_version.hpp"
#include "annal/layout/byte_order.hpp"

namespace annal::layout {

struct merge_progress {
  global_position indexed = 0;
  global_position partial_to = 0; // 0: no merge between slices
  std::string partial_key;

  /// The position through which the stored index is complete for `stream_id`.
  global_position indexed_for(std::string_view stream_id) const noexcept {
    return partial_to > indexed && stream_id <= std::string_view{partial_key} ? partial_to : indexed;
  }
  /// True when `this` has merged further than `o` (merges only advance).
  bool ahead_of(const merge_progress& o) const noexcept {
    if (indexed != o.indexed)
      return indexed > o.indexed;
    if (partial_to != o.partial_to)
      return partial_to > o.partial_to;
    return partial_key > o.partial_key;
  }
};

/// The value of meta "merge_partial" for a merge stored through `through` up to `last_id`.
inline std::string encode_merge_partial(global_position through, std::string_view last_id) {
  std::string v(8, '\0');
  store_be64(v.data(), through);
  v.append(last_id);
  return v;
}

/// Reads a "merge_partial" value into `p` (whose `indexed` is set), capped at `last`; a
/// mark at or below `indexed` means nothing. False when malformed (shorter than 8 bytes).
inline bool decode_merge_partial(std::string_view value, global_position last, merge_progress& p) {
  if (value.size() < 8)
    return false;
  auto to = load_be64(value.data());
  to = to < last ? to : last;
  if (to > p.indexed) {
    p.partial_to = to;
    p.partial_key.assign(value.substr(8));
  }
  return true;
}

} // namespace annal::layout
