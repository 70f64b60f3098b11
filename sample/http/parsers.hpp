// Internal: the parsers behind parse_request, one per route. Each gets the request, the
// path parameters the route captured and the parsed body (commands) or the common query
// parameters (queries), and returns the typed request or the error.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "json_fields.hpp"
#include "shop/http/request_parser.hpp"
#include "shop/http/unsigned_number.hpp"

namespace shop::http::detail {

/// Path parameters in route order, e.g. {"sku-1"} for /products/{sku}/price.
using captures = std::vector<std::string>;

/// An error naming `what` when `id` is not a valid aggregate id (command_parsers.cpp).
std::optional<api_error> check_id(const std::string& id, const char* what);

// -- commands (command_parsers.cpp) ---------------------------------------------------------
parse_result parse_create_product(const json& body, command_meta meta, const captures& c);
parse_result parse_change_price(const json& body, command_meta meta, const captures& c);
parse_result parse_restock(const json& body, command_meta meta, const captures& c);
parse_result parse_place_order(const json& body, command_meta meta, const captures& c);
parse_result parse_pay_order(const json& body, command_meta meta, const captures& c);
parse_result parse_ship_order(const json& body, command_meta meta, const captures& c);
parse_result parse_cancel_order(const json& body, command_meta meta, const captures& c);

// -- queries (query_parsers.cpp) ------------------------------------------------------------
parse_result parse_get_product(const request_view& req, const captures& c);
parse_result parse_get_inventory(const request_view& req, const captures& c);
parse_result parse_get_order(const request_view& req, const captures& c);
parse_result parse_get_customer_orders(const request_view& req, const captures& c);
parse_result parse_get_sales(const request_view& req, const captures& c);
parse_result parse_get_stream_events(const request_view& req, const captures& c);
parse_result parse_get_events(const request_view& req, const captures& c);
parse_result parse_get_projections(const request_view& req, const captures& c);
parse_result parse_get_health(const request_view& req, const captures& c);
parse_result parse_get_metrics(const request_view& req, const captures& c);

using http::parse_unsigned;

} // namespace shop::http::detail
