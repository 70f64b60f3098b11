#include "shop/http/unsigned_number.hpp"

namespace shop::http {

std::optional<uint64_t> parse_unsigned(std::string_view text) noexcept {
  if (text.empty() || text.size() > 20)
    return std::nullopt;
  uint64_t v = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9')
      return std::nullopt;
    auto d = static_cast<uint64_t>(ch - '0');
    if (v > (UINT64_MAX - d) / 10)
      return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

} // namespace shop::http
