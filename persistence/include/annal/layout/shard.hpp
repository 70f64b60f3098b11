// The shard of a stream in a journal of format 3 (meta `shard_count`, fixed at creation):
// every event carries its shard and its position in that shard.
#pragma once

#include <cstdint>
#include <string_view>

namespace annal::layout {

/// The shard of `stream_id` among `shard_count` (> 0) shards.
uint16_t shard_of(std::string_view stream_id, uint16_t shard_count) noexcept;

} // namespace annal::layout
