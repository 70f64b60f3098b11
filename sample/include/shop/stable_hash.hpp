// FNV-1a over bytes: a hash that is the same on every node, build and run (std::hash is
// not), for ids derived from client keys and for orderings every node must agree on.
#pragma once

#include <cstdint>
#include <string_view>

namespace shop {

/// The FNV-1a offset basis, the usual seed.
inline constexpr uint64_t fnv1a_basis = 14695981039346656037ull;

/// FNV-1a of `s` starting from `seed`.
inline uint64_t fnv1a(std::string_view s, uint64_t seed = fnv1a_basis) noexcept {
  uint64_t h = seed;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

} // namespace shop
