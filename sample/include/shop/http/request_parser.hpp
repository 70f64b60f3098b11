// Routing and validation of every request of the HTTP API, as one pure function: the
// method, path, query, headers and body in; a typed request or the error to answer out.
// Whatever the input, it never throws and never crashes (a fuzz target checks this).
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "shop/http/api_error.hpp"
#include "shop/http/api_request.hpp"
#include "shop/http/request_view.hpp"

namespace shop::http {

/// A request after parsing: ready to run, or refused.
using parse_result = std::variant<api_request, api_error>;

/// Routes and validates `req`. Errors: 404 not_found (no such route, or a route of
/// another method), 400 bad_request (malformed JSON, a missing, mistyped or out-of-bounds
/// field, a bad header or query parameter, an invalid id), 413 payload_too_large (a body
/// over max_body_bytes), 415 unsupported_media_type (a non-empty body that is not
/// application/json). An empty body counts as {}.
parse_result parse_request(const request_view& req);

/// A route of the table parse_request follows: its method and its path, with "{}" for
/// each segment it captures ("/products/{}/price").
struct api_route {
  std::string method;
  std::string path;
};

/// Every route parse_request answers, from its own table (the API description's check).
std::vector<api_route> api_routes();

} // namespace shop::http
