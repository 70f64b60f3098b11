// Internal: fixed-width integer encoding. Keys are big-endian so that LMDB's byte-wise
// order equals numeric order; values are little-endian (the native order of our targets).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace annal::detail {

inline void store_be64(char* out, uint64_t x) noexcept {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(x & 0xff);
    x >>= 8;
  }
}

inline uint64_t load_be64(const char* in) noexcept {
  uint64_t x = 0;
  for (int i = 0; i < 8; ++i)
    x = (x << 8) | static_cast<unsigned char>(in[i]);
  return x;
}

inline void store_be16(char* out, uint16_t x) noexcept {
  out[0] = static_cast<char>(x >> 8);
  out[1] = static_cast<char>(x & 0xff);
}

inline uint16_t load_be16(const char* in) noexcept {
  return static_cast<uint16_t>((static_cast<unsigned char>(in[0]) << 8)
                               | static_cast<unsigned char>(in[1]));
}

template <class T>
inline void store_le(char* out, T x) noexcept {
  static_assert(std::is_integral_v<T>);
  std::memcpy(out, &x, sizeof(T));
}

template <class T>
inline T load_le(const char* in) noexcept {
  static_assert(std::is_integral_v<T>);
  T x;
  std::memcpy(&x, in, sizeof(T));
  return x;
}

/// Key of a per-stream table (stream_index, snapshots): stream id, a NUL separator (ids
/// never contain NUL), then the version in big-endian, so one stream's keys are
/// contiguous and ordered by version.
inline std::string stream_key(std::string_view stream_id, uint64_t version) {
  std::string key;
  key.resize(stream_id.size() + 9);
  std::memcpy(key.data(), stream_id.data(), stream_id.size());
  key[stream_id.size()] = '\0';
  store_be64(key.data() + stream_id.size() + 1, version);
  return key;
}

/// True when `key` is a stream_key of `stream_id`; then `version` receives its version.
inline bool parse_stream_key(std::string_view key, std::string_view stream_id,
                             uint64_t& version) noexcept {
  if (key.size() != stream_id.size() + 9 || key.compare(0, stream_id.size(), stream_id) != 0
      || key[stream_id.size()] != '\0')
    return false;
  version = load_be64(key.data() + stream_id.size() + 1);
  return true;
}

} // namespace annal::detail
