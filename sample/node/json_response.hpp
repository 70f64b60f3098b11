// Internal: a 200 answer with a JSON body, shared by the query routes and the page's routes.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "shop/node/shop_service.hpp"

namespace shop::node {

/// A 200 application/json response of `body`; invalid UTF-8 in stored text is replaced
/// rather than thrown on (stored text is validated, but a response must never fail).
http_response ok_json(const nlohmann::json& body);

} // namespace shop::node
