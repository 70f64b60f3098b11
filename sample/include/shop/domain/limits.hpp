// Bounds of the shop's values, shared by the domain rules and the HTTP validation. Plain
// constants: no CAF, no LMDB, no annal header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace shop {

/// Money is integer cents, never floating point.
using cents = int64_t;

/// A price above this is refused (100 million currency units): it keeps every order total
/// (lines x quantity x price) far from int64 overflow.
inline constexpr cents max_price_cents = 10'000'000'000;

/// Units per order line, per restock, and stock on hand at most.
inline constexpr int64_t max_quantity = 1'000'000;
inline constexpr int64_t max_on_hand = 1'000'000'000'000;

/// Lines per order at most.
inline constexpr std::size_t max_order_lines = 100;

/// Lengths of identifiers (sku, order id, customer id) and of free text.
inline constexpr std::size_t max_id_length = 64;
inline constexpr std::size_t max_name_length = 200;
inline constexpr std::size_t max_reason_length = 500;

/// True when `id` is 1..max_id_length characters of [A-Za-z0-9._-]: safe in stream ids,
/// read-model keys, URLs and logs.
inline bool valid_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > max_id_length)
    return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '.' || c == '_' || c == '-';
    if (!ok)
      return false;
  }
  return true;
}

} // namespace shop
