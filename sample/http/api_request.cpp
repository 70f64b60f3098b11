#include "shop/http/api_request.hpp"

namespace shop::http {

namespace {

struct namer {
  const char* operator()(const create_product_request&) const { return "create_product"; }
  const char* operator()(const change_price_request&) const { return "change_price"; }
  const char* operator()(const restock_request&) const { return "restock"; }
  const char* operator()(const place_order_request&) const { return "place_order"; }
  const char* operator()(const pay_order_request&) const { return "pay_order"; }
  const char* operator()(const ship_order_request&) const { return "ship_order"; }
  const char* operator()(const cancel_order_request&) const { return "cancel_order"; }
  const char* operator()(const get_product_request&) const { return "get_product"; }
  const char* operator()(const get_inventory_request&) const { return "get_inventory"; }
  const char* operator()(const get_order_request&) const { return "get_order"; }
  const char* operator()(const get_customer_orders_request&) const { return "get_customer_orders"; }
  const char* operator()(const get_sales_request&) const { return "get_sales"; }
  const char* operator()(const get_stream_events_request&) const { return "get_stream_events"; }
  const char* operator()(const get_events_request&) const { return "get_events"; }
  const char* operator()(const get_projections_request&) const { return "get_projections"; }
  const char* operator()(const get_health_request&) const { return "get_health"; }
  const char* operator()(const get_metrics_request&) const { return "get_metrics"; }
};

} // namespace

const char* request_name(const api_request& r) noexcept {
  return std::visit(namer{}, r);
}

bool is_command(const api_request& r) noexcept {
  // The commands are the alternatives before the first query.
  static_assert(std::is_same_v<std::variant_alternative_t<7, api_request>, get_product_request>);
  return r.index() < 7;
}

} // namespace shop::http
