#include "shop/node/shop_service.hpp"

#include <nlohmann/json.hpp>

#include <random>

namespace shop::node {

using namespace shop::http;

shop_service::shop_service(annal::runtime& rt, read_model_tables tables, node_metrics& metrics)
  : rt_(rt), tables_(tables), metrics_(metrics) {
  // Products created before this start are in the journal: orders wait until the catalog
  // has caught up with them.
  catalog_fence_ = rt_.store().last_position().value_or(0);
}

http_response shop_service::handle(const api_request& request) {
  return std::visit(
    [this](const auto& r) -> http_response {
      using T = std::decay_t<decltype(r)>;
      if constexpr (std::is_same_v<T, create_product_request>) return create_product(r);
      else if constexpr (std::is_same_v<T, change_price_request>) return change_price(r);
      else if constexpr (std::is_same_v<T, restock_request>) return restock(r);
      else if constexpr (std::is_same_v<T, place_order_request>) return place_order(r);
      else if constexpr (std::is_same_v<T, pay_order_request>) return pay_order(r);
      else if constexpr (std::is_same_v<T, ship_order_request>) return ship_order(r);
      else if constexpr (std::is_same_v<T, cancel_order_request>) return cancel_order(r);
      else if constexpr (std::is_same_v<T, get_product_request>) return get_product(r);
      else if constexpr (std::is_same_v<T, get_inventory_request>) return get_inventory(r);
      else if constexpr (std::is_same_v<T, get_order_request>) return get_order(r);
      else if constexpr (std::is_same_v<T, get_customer_orders_request>) return get_customer_orders(r);
      else if constexpr (std::is_same_v<T, get_sales_request>) return get_sales(r);
      else if constexpr (std::is_same_v<T, get_stream_events_request>) return get_stream_events(r);
      else if constexpr (std::is_same_v<T, get_events_request>) return get_events(r);
      else if constexpr (std::is_same_v<T, get_projections_request>) return get_projections();
      else if constexpr (std::is_same_v<T, get_health_request>) return get_health();
      else return get_metrics();
    },
    request);
}

http_response shop_service::error_response(const api_error& e) {
  return http_response{e.status, error_body(e), "application/json", false};
}

annal::status shop_service::await_catalog() {
  return rt_.await_projection(catalog_projection, catalog_fence_.load(), query_timeout);
}

void shop_service::raise_catalog_fence(annal::global_position position) {
  auto cur = catalog_fence_.load();
  while (cur < position && !catalog_fence_.compare_exchange_weak(cur, position)) {
  }
}

api_error to_api_error(const annal::error& e) {
  using annal::errc;
  switch (e.code) {
    case errc::rejected: return conflict("rejected", e.message);
    case errc::conflict: return conflict("version_conflict", e.message);
    case errc::already_exists: return conflict("already_exists", e.message);
    case errc::not_found:
    case errc::stream_deleted: return not_found(e.message);
    case errc::bad_request: return bad_request(e.message);
    case errc::storage_full: return {507, "storage_full", e.message};
    case errc::timeout: return {504, "timeout", e.message};
    case errc::unavailable: return unavailable(e.message);
    case errc::overloaded: return unavailable("overloaded, retry later: " + e.message);
    case errc::io_error:
    case errc::corrupt:
    case errc::unknown_event_type: return {500, "internal", e.to_string()};
  }
  return {500, "internal", e.to_string()};
}

namespace {

std::string hex64(uint64_t x) {
  static const char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, x >>= 4)
    out[static_cast<std::size_t>(i)] = digits[x & 0xf];
  return out;
}

uint64_t fnv1a(std::string_view s, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

} // namespace

std::string new_order_id(const std::string& idempotency_key) {
  if (!idempotency_key.empty())
    return "o-" + hex64(fnv1a(idempotency_key, 14695981039346656037ull))
           + hex64(fnv1a(idempotency_key, 0x9e3779b97f4a7c15ull));
  thread_local std::mt19937_64 rng{std::random_device{}() ^ (uint64_t{std::random_device{}()} << 32)};
  return "o-" + hex64(rng()) + hex64(rng());
}

} // namespace shop::node
