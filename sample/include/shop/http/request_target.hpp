// The request target of an HTTP request ("/orders/o1?min_position=7") as request_view
// wants it: the percent-decoded path and the decoded query parameters. Pure.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shop::http {

struct request_target {
  /// Percent-decoded path, without the query string.
  std::string path;
  /// Query parameters in order, percent-decoded ('+' is a blank).
  std::vector<std::pair<std::string, std::string>> query;
};

/// Splits and decodes `target`. A malformed escape ("%zz") is kept as it is; never throws
/// except for std::bad_alloc.
request_target decode_target(std::string_view target);

} // namespace shop::http
