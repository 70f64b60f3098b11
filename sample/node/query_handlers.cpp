// The query endpoints: read models (after an asynchronous wait for min_position),
// temporal loads of an order, the journal (audit trail), and the node's own state.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <optional>

#include "annal/cluster/cluster_projection.hpp"
#include "json_response.hpp"
#include "shop/domain/order.hpp"
#include "shop/node/render.hpp"
#include "shop/node/shop_service.hpp"
#include "shop/read_models/queries.hpp"

namespace shop::node {

using namespace shop::http;
using nlohmann::json;

namespace {

// The error of a read-model read.
http_response read_error(const annal::error& e) {
  return shop_service::error_response(to_api_error(e));
}

// Runs `fn(const read_model_txn&) -> result<R>` in one read transaction.
template <class R, class F>
annal::result<R> read_in(annal::runtime& rt, F&& fn) {
  std::optional<R> out;
  auto ok = rt.read_models().read([&](const annal::read_model_txn& t) -> annal::status {
    annal::result<R> r = fn(t);
    if (!r)
      return std::move(r).error();
    out.emplace(std::move(*r));
    return {};
  });
  if (!ok)
    return std::move(ok).error();
  return std::move(*out);
}

} // namespace

void shop_service::get_product(const get_product_request& r, const executor& ex, responder done) {
  after(catalog_projection, r.query, ex, std::move(done), [this, sku = r.sku] {
    auto v = read_in<std::optional<product_view>>(
      rt_, [&](const annal::read_model_txn& t) { return find_product(t, tables_, sku); });
    if (!v)
      return read_error(v.error());
    if (!*v)
      return error_response(not_found("no product '" + sku + "'"));
    return ok_json(to_json(**v));
  });
}

void shop_service::get_inventory(const get_inventory_request& r, const executor& ex, responder done) {
  // A product never restocked has no stock row: the catalog says whether it exists, so
  // it must reflect min_position too: one wait for both.
  auto answer = [this, sku = r.sku] {
    bool product_known = false;
    auto v = read_in<std::optional<inventory_view>>(
      rt_, [&](const annal::read_model_txn& t) -> annal::result<std::optional<inventory_view>> {
        auto row = find_inventory(t, tables_, sku);
        if (!row || *row)
          return row;
        auto p = find_product(t, tables_, sku);
        if (!p)
          return std::move(p).error();
        product_known = p->has_value();
        return row;
      });
    if (!v)
      return read_error(v.error());
    if (*v)
      return ok_json(to_json(**v));
    if (product_known)
      return ok_json(to_json(inventory_view{sku, 0, 0}));
    return error_response(not_found("no product '" + sku + "'"));
  };
  await_projections({catalog_projection, inventory_projection}, r.query, query_timeout,
                    ex, [done, answer](std::optional<api_error> e) {
                      done(e ? error_response(*e) : answer());
                    });
}

void shop_service::get_order(const get_order_request& r, const executor& ex, responder done) {
  if (r.at_version) {
    // Temporal read: the order as its first N events left it, from the journal.
    auto v = rt_.load<order>(r.order_id, annal::as_of::version(*r.at_version));
    if (!v)
      return done(error_response(to_api_error(v.error())));
    if (v->version < *r.at_version)
      return done(error_response(not_found("order '" + r.order_id + "' has " + std::to_string(v->version)
                                           + " events, not " + std::to_string(*r.at_version))));
    return done(ok_json(to_json(make_order_view(v->state, v->version))));
  }
  after(order_detail_projection, r.query, ex, std::move(done), [this, id = r.order_id] {
    auto v = read_in<std::optional<order_view>>(
      rt_, [&](const annal::read_model_txn& t) { return find_order(t, tables_, id); });
    if (!v)
      return read_error(v.error());
    if (!*v)
      return error_response(not_found("no order '" + id + "'"));
    return ok_json(to_json(**v));
  });
}

void shop_service::get_customer_orders(const get_customer_orders_request& r, const executor& ex,
                                       responder done) {
  after(customer_orders_projection, r.query, ex, std::move(done), [this, id = r.customer_id] {
    auto v = read_in<std::vector<customer_order_view>>(
      rt_, [&](const annal::read_model_txn& t) { return find_customer_orders(t, tables_, id); });
    if (!v)
      return read_error(v.error());
    return ok_json(to_json(*v));
  });
}

void shop_service::get_sales(const get_sales_request& r, const executor& ex, responder done) {
  after(sales_projection, r.query, ex, std::move(done), [this] {
    auto v = read_in<std::vector<sales_view>>(
      rt_, [&](const annal::read_model_txn& t) { return sales_report(t, tables_); });
    if (!v)
      return read_error(v.error());
    return ok_json(to_json(*v));
  });
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
                 {"lag", p.lag_events},
                 {"lag_ms", p.lag_ms}};
    if (!p.error.empty())
      item["error"] = p.error;
    if (p.faulted_at != 0)
      item["faulted_at"] = p.faulted_at;
    if (p.parked != 0)
      item["parked"] = p.parked;
    if (p.state == annal::projection_state::rebuilding)
      item["rebuild"] = {{"done", p.rebuild_done}, {"total", p.rebuild_total}};
    list.push_back(std::move(item));
  }
  if (cluster_reads_ != nullptr) // the read models over every shard: a position per shard
    list.push_back({{"name", "shop.read_models"},
                    {"status", "cluster"},
                    {"applied_since_start", cluster_reads_->applied()},
                    {"shard_positions", cluster_reads_->positions()}});
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
