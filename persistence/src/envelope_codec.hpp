// Internal: the on-disk envelope of an event in the `events` table, keyed by global
// position. Layout (little-endian integers):
//
//   0  u64 checksum  XXH3-64 of bytes [8, size) seeded with the position
//   8  u8  format    (2; 1 in journals of format 2, read but no longer written)
//   9  u8  flags     bit 0: imported (copied from another node with its shard); others 0
//  10  u16 stream id length     12 u16 type length
//  14  u16 command id length    16 u16 correlation id length   18 u16 causation id length
//  20  u32 schema version       24 u32 payload length
//  28  u64 stream version       36 i64 timestamp (UTC ns)
//  44  u16 shard                46 u64 shard position          (format 2 only)
//  54  stream id, type, command id, correlation id, causation id, payload   (44 in format 1)
//
// Seeding with the position makes a record copied to the wrong key fail its check. The
// shard and shard position (see shard.hpp) survive a move of the shard to another node,
// where the node-local position (the key) changes.
#pragma once

#include <cstddef>
#include <string_view>

#include "annal/recorded_event.hpp"

namespace annal::detail {

inline constexpr std::size_t envelope_header_size = 54;
inline constexpr std::size_t envelope_v1_header_size = 44;
inline constexpr uint8_t envelope_format = 2;
inline constexpr uint8_t envelope_format_v1 = 1;
inline constexpr uint8_t envelope_flag_imported = 1;

/// Where an event sits in its shard (format 2 envelopes).
struct shard_place {
  uint16_t shard = 0;
  uint64_t position = 0;
};

/// Bytes needed to encode `e` of `stream_id`.
std::size_t envelope_size(std::string_view stream_id, const new_event& e) noexcept;

/// Writes the envelope into `out`, which has envelope_size() bytes.
void encode_envelope(char* out, global_position position, std::string_view stream_id,
                     stream_version version, timestamp_ns ts, const new_event& e,
                     shard_place shard = {}) noexcept;

/// Bytes of `v` re-encoded as a format 2 envelope (the upgrade of a format-1 record).
std::size_t envelope_size(const event_view& v) noexcept;
/// Re-encodes the decoded event `v` at `position` with its shard place and its imported
/// flag into `out`.
void encode_envelope(char* out, const event_view& v, shard_place shard) noexcept;

/// Reads the stream id and version of the envelope `bytes` without checking its checksum
/// (the tail scans that rebuild the index). False when the structure is invalid.
bool peek_envelope(std::string_view bytes, std::string_view& stream_id,
                   stream_version& version) noexcept;

/// Reads the shard place of the envelope `bytes` from its header alone, without checking
/// its checksum (shard reads filter on it). False when it has none (format 1) or is too short.
bool peek_shard(std::string_view bytes, shard_place& out) noexcept;

/// Decodes `bytes` stored at `position` into `out` (views into `bytes`). Returns false and
/// sets out.corrupt when the structure is invalid; sets out.corrupt and returns true when
/// the structure parses but the checksum fails (fields are then best effort).
bool decode_envelope(global_position position, std::string_view bytes, event_view& out) noexcept;

} // namespace annal::detail
