// The key of a stream in the journal's table `trimmed_streams` (the deleted and truncated
// streams, by shard): the shard as 2 big-endian bytes, then the stream id; no value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "annal/layout/byte_order.hpp"

namespace annal::layout {

/// The key of `stream_id` in shard `shard` (with an empty id: the prefix of the shard).
inline std::string trimmed_key(uint16_t shard, std::string_view stream_id) {
  std::string key(2, '\0');
  store_be16(key.data(), shard);
  key.append(stream_id);
  return key;
}

} // namespace annal::layout
