// Internal: the value of the `snapshots` table, keyed by stream_key(stream, version).
//   0 u64 checksum  XXH3-64 of bytes [8, size) seeded with the version
//   8 u8 format (1)  9 u8 flags (0)  10 u16 type length  12 u32 schema version
//  16 i64 timestamp  24 u32 state length  28 type, state
#pragma once

#include <string>
#include <string_view>

#include "annal/snapshot_record.hpp"

namespace annal::detail {

inline constexpr std::size_t snapshot_header_size = 28;

/// Encodes everything of `s` but its stream id and version (those form the key).
std::string encode_snapshot(const snapshot_record& s);

/// Decodes `bytes` stored under (`stream_id`, `version`); false when malformed or when
/// the checksum fails.
bool decode_snapshot(std::string_view stream_id, stream_version version,
                     std::string_view bytes, snapshot_record& out);

/// Reads only the timestamp of an encoded snapshot (0 when malformed).
timestamp_ns snapshot_timestamp(std::string_view bytes) noexcept;

} // namespace annal::detail
