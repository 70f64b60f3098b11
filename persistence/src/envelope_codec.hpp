// Internal: the on-disk envelope of an event in the `events` table, keyed by global
// position. Layout (little-endian integers):
//
//   0  u64 checksum  XXH3-64 of bytes [8, size) seeded with the position
//   8  u8  format    (1)
//   9  u8  flags     (0)
//  10  u16 stream id length     12 u16 type length
//  14  u16 command id length    16 u16 correlation id length   18 u16 causation id length
//  20  u32 schema version       24 u32 payload length
//  28  u64 stream version       36 i64 timestamp (UTC ns)
//  44  stream id, type, command id, correlation id, causation id, payload
//
// Seeding with the position makes a record copied to the wrong key fail its check.
#pragma once

#include <cstddef>
#include <string_view>

#include "annal/recorded_event.hpp"

namespace annal::detail {

inline constexpr std::size_t envelope_header_size = 44;
inline constexpr uint8_t envelope_format = 1;

/// Bytes needed to encode `e` of `stream_id`.
std::size_t envelope_size(std::string_view stream_id, const new_event& e) noexcept;

/// Writes the envelope into `out`, which has envelope_size() bytes.
void encode_envelope(char* out, global_position position, std::string_view stream_id,
                     stream_version version, timestamp_ns ts, const new_event& e) noexcept;

/// Decodes `bytes` stored at `position` into `out` (views into `bytes`). Returns false and
/// sets out.corrupt when the structure is invalid; sets out.corrupt and returns true when
/// the structure parses but the checksum fails (fields are then best effort).
bool decode_envelope(global_position position, std::string_view bytes, event_view& out) noexcept;

} // namespace annal::detail
