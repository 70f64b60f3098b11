// Internal: the shard of a stream. A journal of format 3 has a fixed number of shards
// (meta "shard_count", set when the store is created); every event carries its shard and
// its position in that shard (consecutive from 1), so that a shard can move to another node
// with the positions its readers hold (see docs/architecture.md, Storage).
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <string_view>

namespace annal::detail {

/// The shard of `stream_id` among `shard_count` (> 0): XXH3-64 (seed 0) of its bytes.
inline uint16_t shard_of(std::string_view stream_id, uint16_t shard_count) noexcept {
  return static_cast<uint16_t>(XXH3_64bits(stream_id.data(), stream_id.size()) % shard_count);
}

} // namespace annal::detail
