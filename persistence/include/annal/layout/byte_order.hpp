// The journal's integer encoding, for tools that read its tables directly (annal verify):
// keys are big-endian, so that LMDB's byte order is numeric order; values little-endian.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace annal::layout {

/// Writes `x` as 8 big-endian bytes at `out` (an event key, a position in meta).
void store_be64(char* out, uint64_t x) noexcept;

/// Reads 8 big-endian bytes at `in`.
uint64_t load_be64(const char* in) noexcept;

/// Writes `x` as 2 big-endian bytes at `out` (a key of the `shards` table).
void store_be16(char* out, uint16_t x) noexcept;

/// Reads an integer of type T stored little-endian (the native order of our targets) at
/// `in`, e.g. meta's format_version (u32) or shard_count (u16).
template <class T>
T load_le(const char* in) noexcept {
  static_assert(std::is_integral_v<T>);
  T x;
  std::memcpy(&x, in, sizeof(T));
  return x;
}

} // namespace annal::layout
