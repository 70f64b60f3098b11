#include "json_response.hpp"

#include <nlohmann/json.hpp>

namespace shop::node {

http_response ok_json(const nlohmann::json& body) {
  return http_response{200, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                       "application/json", false};
}

} // namespace shop::node
