#include "shop/http/api_error.hpp"

#include <nlohmann/json.hpp>

namespace shop::http {

api_error bad_request(std::string message) {
  return {400, "bad_request", std::move(message)};
}

api_error unauthorized() {
  return {401, "unauthorized", "a valid 'Authorization: Bearer <token>' header is required"};
}

api_error not_found(std::string message) {
  return {404, "not_found", std::move(message)};
}

api_error conflict(std::string code, std::string message) {
  return {409, std::move(code), std::move(message)};
}

api_error payload_too_large() {
  return {413, "payload_too_large", "the body is larger than 1 MiB"};
}

api_error unsupported_media_type(std::string message) {
  return {415, "unsupported_media_type", std::move(message)};
}

api_error unavailable(std::string message) {
  return {503, "unavailable", std::move(message)};
}

std::string error_body(const api_error& e) {
  nlohmann::json j = {{"error", e.code}, {"message", e.message}};
  // Replace invalid UTF-8 (a message may quote raw input) instead of throwing.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace shop::http
