// Internal: the value of the `streams` table (32 bytes, little-endian):
//   0 u8 format (1)   1 u8 flags (bit 0: deleted)   2..7 reserved
//   8 u64 head version   16 u64 last position   24 u64 truncated-through version
#pragma once

#include <string_view>

#include "annal/stream_info.hpp"
#include "byte_order.hpp"

namespace annal::detail {

inline constexpr std::size_t stream_record_size = 32;

inline void encode_stream_record(char* out, const stream_info& s) noexcept {
  std::memset(out, 0, stream_record_size);
  out[0] = 1;
  out[1] = s.deleted ? 1 : 0;
  store_le<uint64_t>(out + 8, s.head);
  store_le<uint64_t>(out + 16, s.last_position);
  store_le<uint64_t>(out + 24, s.truncated_through);
}

/// Fills `s` (except stream_id) from `bytes`; false when the record is malformed.
inline bool decode_stream_record(std::string_view bytes, stream_info& s) noexcept {
  if (bytes.size() != stream_record_size || bytes[0] != 1)
    return false;
  s.deleted = (bytes[1] & 1) != 0;
  s.head = load_le<uint64_t>(bytes.data() + 8);
  s.last_position = load_le<uint64_t>(bytes.data() + 16);
  s.truncated_through = load_le<uint64_t>(bytes.data() + 24);
  return true;
}

} // namespace annal::detail
