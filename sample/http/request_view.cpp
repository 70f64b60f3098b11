#include "shop/http/request_view.hpp"

namespace shop::http {

namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto x = static_cast<unsigned char>(a[i]);
    auto y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z')
      x = static_cast<unsigned char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z')
      y = static_cast<unsigned char>(y - 'A' + 'a');
    if (x != y)
      return false;
  }
  return true;
}

} // namespace

std::optional<std::string_view> request_view::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name))
      return v;
  return std::nullopt;
}

std::optional<std::string_view> request_view::param(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name)
      return v;
  return std::nullopt;
}

} // namespace shop::http
