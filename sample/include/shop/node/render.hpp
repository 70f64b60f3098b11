// JSON renderings of the shop's read-model rows and of stored events, in the shapes the
// HTTP API promises. Pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include <vector>

#include "annal/event_registry.hpp"
#include "annal/recorded_event.hpp"
#include "shop/read_models/views.hpp"

namespace shop::node {

/// {"sku","name","price_cents"}
nlohmann::json to_json(const product_view& v);
/// {"sku","on_hand","reserved","available"}
nlohmann::json to_json(const inventory_view& v);
/// {"order_id","customer_id","status","lines":[{"sku","quantity","price_cents"}],
///  "total_cents","version"} (+ "reason" for rejected and cancelled orders)
nlohmann::json to_json(const order_view& v);
/// {"orders":[{"order_id","status","total_cents"}]}
nlohmann::json to_json(const std::vector<customer_order_view>& orders);
/// {"skus":[{"sku","units","revenue_cents"}]}
nlohmann::json to_json(const std::vector<sales_view>& sales);

/// {"position","stream","version","type","schema_version","timestamp","data","metadata"}:
/// `data` is the payload rendered through the registry (null, with "error", when it
/// cannot be); `timestamp` is RFC 3339 UTC with nanoseconds.
nlohmann::json to_json(const annal::recorded_event& e, const annal::event_registry& reg);

/// RFC 3339 UTC time with nanoseconds, e.g. "2024-05-01T12:00:00.000000123Z".
std::string rfc3339(annal::timestamp_ns t);

} // namespace shop::node
