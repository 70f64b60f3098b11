// The query endpoints: read models (after waiting for min_position), temporal loads of an
// order, the journal (audit trail), and the node's own state.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>

#include "shop/domain/order.hpp"
#include "shop/node/render.hpp"
#include "shop/node/shop_service.hpp"
#include "shop/read_models/queries.hpp"

namespace shop::node {

using namespace shop::http;
using nlohmann::json;

namespace {

http_response ok_json(const json& body) {
  // Replace rather than throw on invalid UTF-8 (stored text is validated, but a response
  // must never fail).
  return http_response{200, body.dump(-1, ' ', false, json::error_handler_t::replace),
                       "application/json", false};
}

// The error of a read-model query: a projection that did not reach min_position in time
// is "lagging" (504), a stopped one unavailable (503).
http_response query_error(const annal::error& e) {
  if (e.code == annal::errc::timeout)
    return shop_service::error_response({504, "projection_lagging", e.message});
  return shop_service::error_response(to_api_error(e));
}

annal::query_options wait_for(const query_meta& q) {
  return annal::query_options{q.min_position, shop_service::query_timeout};
}

} // namespace

http_response shop_service::get_product(const get_product_request& r) {
  auto v = rt_.query<std::optional<product_view>>(
    catalog_projection, [&](const annal::read_model_txn& t) { return find_product(t, tables_, r.sku); },
    wait_for(r.query));
  if (!v)
    return query_error(v.error());
  if (!*v)
    return error_response(not_found("no product '" + r.sku + "'"));
  return ok_json(to_json(**v));
}

http_response shop_service::get_inventory(const get_inventory_request& r) {
  // A product never restocked has no stock row: the catalog says whether it exists, so
  // it must reflect min_position too. Both waits share one budget of query_timeout.
  auto started = std::chrono::steady_clock::now();
  if (auto ok = rt_.await_projection(catalog_projection, r.query.min_position, query_timeout); !ok)
    return query_error(ok.error());
  auto left = query_timeout - std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - started);
  bool product_known = false;
  auto v = rt_.query<std::optional<inventory_view>>(
    inventory_projection,
    [&](const annal::read_model_txn& t) -> annal::result<std::optional<inventory_view>> {
      auto row = find_inventory(t, tables_, r.sku);
      if (!row || *row)
        return row;
      auto p = find_product(t, tables_, r.sku);
      if (!p)
        return std::move(p).error();
      product_known = p->has_value();
      return row;
    },
    annal::query_options{r.query.min_position, std::max(left, std::chrono::milliseconds{0})});
  if (!v)
    return query_error(v.error());
  if (*v)
    return ok_json(to_json(**v));
  if (product_known)
    return ok_json(to_json(inventory_view{r.sku, 0, 0}));
  return error_response(not_found("no product '" + r.sku + "'"));
}

http_response shop_service::get_order(const get_order_request& r) {
  if (r.at_version) {
    // Temporal read: the order as its first N events left it, from the journal.
    auto v = rt_.load<order>(r.order_id, annal::as_of::version(*r.at_version));
    if (!v)
      return error_response(to_api_error(v.error()));
    if (v->version < *r.at_version)
      return error_response(not_found("order '" + r.order_id + "' has " + std::to_string(v->version)
                                      + " events, not " + std::to_string(*r.at_version)));
    return ok_json(to_json(make_order_view(v->state, v->version)));
  }
  auto v = rt_.query<std::optional<order_view>>(
    order_detail_projection,
    [&](const annal::read_model_txn& t) { return find_order(t, tables_, r.order_id); },
    wait_for(r.query));
  if (!v)
    return query_error(v.error());
  if (!*v)
    return error_response(not_found("no order '" + r.order_id + "'"));
  return ok_json(to_json(**v));
}

http_response shop_service::get_customer_orders(const get_customer_orders_request& r) {
  auto v = rt_.query<std::vector<customer_order_view>>(
    customer_orders_projection,
    [&](const annal::read_model_txn& t) { return find_customer_orders(t, tables_, r.customer_id); },
    wait_for(r.query));
  if (!v)
    return query_error(v.error());
  return ok_json(to_json(*v));
}

http_response shop_service::get_sales(const get_sales_request& r) {
  auto v = rt_.query<std::vector<sales_view>>(
    sales_projection, [&](const annal::read_model_txn& t) { return sales_report(t, tables_); },
    wait_for(r.query));
  if (!v)
    return query_error(v.error());
  return ok_json(to_json(*v));
}

http_response shop_service::get_stream_events(const get_stream_events_request& r) {
  auto head = rt_.store().stream_head(r.stream);
  if (!head)
    return error_response(to_api_error(head.error()));
  if (head->head == 0 || head->deleted)
    return error_response(not_found("no stream '" + r.stream + "'"));
  auto events = rt_.store().read_stream(r.stream, annal::stream_range{r.from, UINT64_MAX, r.limit});
  if (!events)
    return error_response(to_api_error(events.error()));
  json list = json::array();
  for (const auto& e : *events)
    list.push_back(to_json(e, rt_.registry()));
  return ok_json({{"events", std::move(list)}});
}

http_response shop_service::get_events(const get_events_request& r) {
  auto events = rt_.store().read_all(r.after, r.limit);
  if (!events)
    return error_response(to_api_error(events.error()));
  json list = json::array();
  for (const auto& e : *events)
    list.push_back(to_json(e, rt_.registry()));
  return ok_json({{"events", std::move(list)}});
}

http_response shop_service::get_projections() {
  json list = json::array();
  for (const auto& p : rt_.projections()) {
    json item = {{"name", p.name},
                 {"status", annal::to_string(p.state)},
                 {"position", p.position},
                 {"lag", p.lag_events}};
    if (!p.error.empty())
      item["error"] = p.error;
    list.push_back(std::move(item));
  }
  return ok_json({{"projections", std::move(list)}});
}

http_response shop_service::get_health() {
  auto head = rt_.store().last_position();
  if (!head)
    return error_response(to_api_error(head.error()));
  if (!rt_.running())
    return error_response(unavailable("the node is stopping"));
  return ok_json({{"status", "ok"}, {"position", *head}});
}

http_response shop_service::get_metrics() {
  return http_response{200, metrics_.render(rt_), "text/plain; version=0.0.4", false};
}

} // namespace shop::node
