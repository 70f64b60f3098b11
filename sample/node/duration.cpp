#include "shop/node/options.hpp"

namespace shop::node {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
    ++digits;
  if (digits == 0 || digits > 12)
    return std::nullopt;
  uint64_t n = 0;
  for (std::size_t i = 0; i < digits; ++i)
    n = n * 10 + static_cast<uint64_t>(text[i] - '0');
  auto unit = text.substr(digits);
  uint64_t ms_per_unit = 0;
  if (unit == "ms")
    ms_per_unit = 1;
  else if (unit.empty() || unit == "s")
    ms_per_unit = 1000;
  else if (unit == "m" || unit == "min")
    ms_per_unit = 60'000;
  else if (unit == "h")
    ms_per_unit = 3'600'000;
  else
    return std::nullopt;
  constexpr uint64_t max_ms = 30ull * 24 * 3'600'000;
  if (n == 0 || n > max_ms / ms_per_unit)
    return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(n * ms_per_unit));
}

std::optional<std::pair<std::string, uint16_t>> parse_endpoint(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return std::nullopt;
  auto host = text.substr(0, colon);
  auto port = text.substr(colon + 1);
  if (host.front() == '[') { // [::1]
    if (host.size() < 3 || host.back() != ']')
      return std::nullopt;
    host = host.substr(1, host.size() - 2);
  }
  if (port.empty() || port.size() > 5)
    return std::nullopt;
  uint32_t p = 0;
  for (char c : port) {
    if (c < '0' || c > '9')
      return std::nullopt;
    p = p * 10 + static_cast<uint32_t>(c - '0');
  }
  if (p > 65535)
    return std::nullopt;
  return std::make_pair(std::string{host}, static_cast<uint16_t>(p));
}

} // namespace shop::node
