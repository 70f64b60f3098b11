// Internal: bytes packed as Cap'n Proto packs its words, without its run extensions. Each
// 8-byte word of the input becomes a tag byte, whose bit i says byte i is not zero, and
// the word's non-zero bytes. Serialized states are mostly fixed-width integers holding
// small values, so a counter's 24 bytes pack into 7; the worst case grows by one byte in
// eight. The packed form does not record the input's length: the caller keeps it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace annal::detail {

/// The bytes pack(in, ...) writes.
inline std::size_t packed_size(std::string_view in) noexcept {
  std::size_t n = (in.size() + 7) / 8;
  for (char c : in)
    n += c != 0 ? 1 : 0;
  return n;
}

/// Writes `in` packed at `out` (packed_size(in) bytes); returns the end.
inline char* pack(std::string_view in, char* out) noexcept {
  for (std::size_t word = 0; word < in.size(); word += 8) {
    char* tag = out++;
    uint8_t bits = 0;
    for (std::size_t i = 0; i < 8 && word + i < in.size(); ++i)
      if (char c = in[word + i]; c != 0) {
        bits = static_cast<uint8_t>(bits | (1u << i));
        *out++ = c;
      }
    *tag = static_cast<char>(bits);
  }
  return out;
}

/// Appends the `size` bytes packed at `in` to `out`; returns the end of the packed bytes.
inline const char* unpack(const char* in, std::size_t size, std::string& out) {
  out.reserve(out.size() + size);
  for (std::size_t word = 0; word < size; word += 8) {
    auto bits = static_cast<uint8_t>(*in++);
    for (std::size_t i = 0; i < 8 && word + i < size; ++i)
      out.push_back((bits & (1u << i)) != 0 ? *in++ : '\0');
  }
  return in;
}

/// The end of the packed form of `size` bytes that starts at `in`.
inline const char* skip_packed(const char* in, std::size_t size) noexcept {
  for (std::size_t word = 0; word < size; word += 8) {
    auto bits = static_cast<unsigned>(static_cast<uint8_t>(*in++));
    in += __builtin_popcount(bits);
  }
  return in;
}

} // namespace annal::detail
