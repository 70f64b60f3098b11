// The error answers of the HTTP API: a status, a stable snake_case code and a message,
// sent as {"error": code, "message": message}. Pure: no server, no runtime.
#pragma once

#include <string>

namespace shop::http {

struct api_error {
  int status = 500;
  /// bad_request, unauthorized, not_found, rejected, version_conflict, already_exists,
  /// payload_too_large, unsupported_media_type, unavailable, storage_full,
  /// projection_lagging, timeout, handler_fault, internal.
  std::string code;
  std::string message;
};

/// 400: malformed JSON, a missing or mistyped field, a value out of bounds.
api_error bad_request(std::string message);
/// 401: the bearer token is missing or wrong.
api_error unauthorized();
/// 404: an unknown entity or route.
api_error not_found(std::string message);
/// 409 with code rejected (a domain rule), version_conflict or already_exists.
api_error conflict(std::string code, std::string message);
/// 413: the body is larger than max_body_bytes.
api_error payload_too_large();
/// 415: a body that is not JSON.
api_error unsupported_media_type(std::string message);
/// 503: shutting down, or overloaded.
api_error unavailable(std::string message);

/// Bodies larger than this are refused with 413.
inline constexpr std::size_t max_body_bytes = std::size_t{1} << 20;

/// The JSON body of an error: {"error": code, "message": message}.
std::string error_body(const api_error& e);

} // namespace shop::http
