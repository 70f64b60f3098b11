#include "snapshot_codec.hpp"

#include <xxhash.h>

#include "byte_order.hpp"

namespace annal::detail {

std::string encode_snapshot(const snapshot_record& s) {
  std::string out(snapshot_header_size + s.type.size() + s.state.size(), '\0');
  char* b = out.data();
  b[8] = 1;
  store_le<uint16_t>(b + 10, static_cast<uint16_t>(s.type.size()));
  store_le<uint32_t>(b + 12, s.schema_version);
  store_le<int64_t>(b + 16, s.timestamp);
  store_le<uint32_t>(b + 24, static_cast<uint32_t>(s.state.size()));
  std::memcpy(b + snapshot_header_size, s.type.data(), s.type.size());
  if (!s.state.empty())
    std::memcpy(b + snapshot_header_size + s.type.size(), s.state.data(), s.state.size());
  store_le<uint64_t>(b, XXH3_64bits_withSeed(b + 8, out.size() - 8, s.version));
  return out;
}

bool decode_snapshot(std::string_view stream_id, stream_version version,
                     std::string_view bytes, snapshot_record& out) {
  const char* b = bytes.data();
  if (bytes.size() < snapshot_header_size || b[8] != 1)
    return false;
  std::size_t type_len = load_le<uint16_t>(b + 10);
  std::size_t state_len = load_le<uint32_t>(b + 24);
  if (snapshot_header_size + type_len + state_len != bytes.size())
    return false;
  if (load_le<uint64_t>(b) != XXH3_64bits_withSeed(b + 8, bytes.size() - 8, version))
    return false;
  out.stream_id.assign(stream_id);
  out.version = version;
  out.schema_version = load_le<uint32_t>(b + 12);
  out.timestamp = load_le<int64_t>(b + 16);
  out.type.assign(b + snapshot_header_size, type_len);
  out.state.assign(b + snapshot_header_size + type_len, state_len);
  return true;
}

timestamp_ns snapshot_timestamp(std::string_view bytes) noexcept {
  if (bytes.size() < snapshot_header_size)
    return 0;
  return load_le<int64_t>(bytes.data() + 16);
}

} // namespace annal::detail
