// An HTTP request as the parser sees it: views of what the server received. The server
// decodes the path and the query string; nothing else is interpreted. Pure.
#pragma once

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace shop::http {

/// Valid while the strings it views are. Header names compare case-insensitively.
struct request_view {
  std::string_view method;
  /// Percent-decoded path, without the query string.
  std::string_view path;
  /// Decoded query parameters, in order (a repeated name: the first counts).
  std::vector<std::pair<std::string_view, std::string_view>> query;
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::string_view body;

  /// The first header named `name` (ASCII case-insensitive), or none.
  std::optional<std::string_view> header(std::string_view name) const;
  /// The first query parameter named `name`, or none.
  std::optional<std::string_view> param(std::string_view name) const;
};

} // namespace shop::http
