// Decimal unsigned integers in request paths, query strings and headers.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace shop::http {

/// A decimal unsigned integer of at most 20 digits, without sign or spaces, that fits in
/// 64 bits; none otherwise.
std::optional<uint64_t> parse_unsigned(std::string_view text) noexcept;

} // namespace shop::http
