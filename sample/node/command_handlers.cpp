// The command endpoints: each becomes one command to one aggregate, answered once the
// command's events are durable (or it is refused).
#include <nlohmann/json.hpp>

#include <future>

#include "shop/domain/inventory.hpp"
#include "shop/domain/order.hpp"
#include "shop/domain/product.hpp"
#include "shop/node/shop_service.hpp"
#include "shop/read_models/queries.hpp"

namespace shop::node {

using namespace shop::http;
using nlohmann::json;

template <class A>
http_response shop_service::execute(const command_plan& plan, const std::string& id,
                                    typename A::command cmd, const command_meta& meta,
                                    annal::global_position* position) {
  annal::command_options o;
  if (!meta.idempotency_key.empty())
    o.command_id = "http/" + meta.idempotency_key; // apart from fulfilment's own ids
  o.timeout = command_timeout;
  if (meta.if_match)
    o.expected = annal::expected_version::exact(*meta.if_match);
  else if (plan.expect == expectation::create)
    o.expected = annal::expected_version::no_stream();
  else if (plan.expect == expectation::exists)
    o.expected = annal::expected_version::stream_exists();
  auto started = std::chrono::steady_clock::now();
  auto done = [&](const std::string& outcome) {
    metrics_.command_done(plan.name, outcome, std::chrono::steady_clock::now() - started);
  };
  auto pending = rt_.send<A>(id, std::move(cmd), o);
  // The runtime answers every command (its own deadline is command_timeout); the margin
  // only guards this thread against a reply that never comes.
  if (pending.wait_for(command_timeout + std::chrono::seconds(5)) != std::future_status::ready) {
    done("timeout");
    return error_response({504, "timeout", "no outcome within the command timeout"});
  }
  auto r = pending.get();
  if (r) {
    done("ok");
    if (position != nullptr)
      *position = r->position;
    json body = {{plan.id_field, id}, {"version", r->version}, {"position", r->position}};
    return http_response{plan.success_status, body.dump(), "application/json", r->duplicate};
  }
  api_error err = to_api_error(r.error());
  if (r.error().code == annal::errc::conflict) {
    // The expectation failed: say which one, in the client's words.
    auto stream = annal::aggregate_traits<A>::stream_id(id);
    auto head = rt_.store().stream_head(stream);
    bool exists = head && head->head > 0;
    if (!meta.if_match && plan.expect == expectation::create)
      err = conflict("already_exists", std::string{A::category} + " '" + id + "' exists already");
    else if (!exists && plan.expect == expectation::exists)
      err = not_found("no " + std::string{A::category} + " '" + id + "'");
  }
  done(err.code);
  return error_response(err);
}

http_response shop_service::create_product(const create_product_request& r) {
  static const command_plan plan{"create_product", expectation::create, 201, "sku"};
  annal::global_position pos = 0;
  auto res = execute<product>(plan, r.sku, shop::create_product{r.sku, r.name, r.price_cents},
                              r.meta, &pos);
  raise_catalog_fence(pos); // orders placed from now on must see this product
  return res;
}

http_response shop_service::change_price(const change_price_request& r) {
  static const command_plan plan{"change_price", expectation::exists, 200, "sku"};
  annal::global_position pos = 0;
  auto res = execute<product>(plan, r.sku, shop::change_price{r.price_cents}, r.meta, &pos);
  raise_catalog_fence(pos); // orders placed from now on must see the new price
  return res;
}

http_response shop_service::restock(const restock_request& r) {
  static const command_plan plan{"restock", expectation::any, 200, "sku"};
  // Stock is kept for catalog products only.
  if (auto ok = await_catalog(); !ok)
    return error_response(ok.error().code == annal::errc::timeout
                            ? api_error{504, "projection_lagging", ok.error().message}
                            : to_api_error(ok.error()));
  bool known = false;
  auto read = rt_.read_models().read([&](const annal::read_model_txn& t) -> annal::status {
    auto p = find_product(t, tables_, r.sku);
    if (!p)
      return std::move(p).error();
    known = p->has_value();
    return {};
  });
  if (!read)
    return error_response(to_api_error(read.error()));
  if (!known)
    return error_response(not_found("no product '" + r.sku + "'"));
  return execute<inventory>(plan, r.sku, shop::restock{r.quantity}, r.meta);
}

http_response shop_service::place_order(const place_order_request& r) {
  static const command_plan plan{"place_order", expectation::create, 201, "order_id"};
  auto id = r.order_id ? *r.order_id : new_order_id(r.meta.idempotency_key);
  // Prices come from the catalog, as it stands after every product command acknowledged.
  if (auto ok = await_catalog(); !ok)
    return error_response(ok.error().code == annal::errc::timeout
                            ? api_error{504, "projection_lagging", ok.error().message}
                            : to_api_error(ok.error()));
  std::vector<order_line> lines;
  std::string unknown;
  auto read = rt_.read_models().read([&](const annal::read_model_txn& t) -> annal::status {
    for (const auto& l : r.lines) {
      auto p = find_product(t, tables_, l.sku);
      if (!p)
        return std::move(p).error();
      if (!*p) {
        unknown = l.sku;
        return {};
      }
      lines.push_back(order_line{l.sku, l.quantity, (*p)->price_cents});
    }
    return {};
  });
  if (!read)
    return error_response(to_api_error(read.error()));
  if (!unknown.empty()) {
    metrics_.command_done(plan.name, "rejected", std::chrono::nanoseconds{0});
    return error_response(conflict("rejected", "unknown sku '" + unknown + "'"));
  }
  return execute<order>(plan, id, shop::place_order{id, r.customer_id, std::move(lines)}, r.meta);
}

http_response shop_service::pay_order(const pay_order_request& r) {
  static const command_plan plan{"pay_order", expectation::exists, 200, "order_id"};
  return execute<order>(plan, r.order_id, shop::pay_order{r.amount_cents}, r.meta);
}

http_response shop_service::ship_order(const ship_order_request& r) {
  static const command_plan plan{"ship_order", expectation::exists, 200, "order_id"};
  return execute<order>(plan, r.order_id, shop::ship_order{}, r.meta);
}

http_response shop_service::cancel_order(const cancel_order_request& r) {
  static const command_plan plan{"cancel_order", expectation::exists, 200, "order_id"};
  return execute<order>(plan, r.order_id, shop::cancel_order{r.reason}, r.meta);
}

} // namespace shop::node
