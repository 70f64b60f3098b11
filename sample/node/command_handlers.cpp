// The command endpoints: each becomes one command to one aggregate, answered once the
// command's events are durable (or it is refused). The answer continues on the request's
// executor: the runtime's callback only hands the outcome over.
#include <nlohmann/json.hpp>

#include <boost/asio/post.hpp>

#include "shop/domain/inventory.hpp"
#include "shop/domain/order.hpp"
#include "shop/domain/product.hpp"
#include "shop/node/shop_service.hpp"
#include "shop/read_models/queries.hpp"

namespace shop::node {

using namespace shop::http;
using nlohmann::json;

template <class A>
void shop_service::execute(const command_plan& plan, const std::string& id, typename A::command cmd,
                           const command_meta& meta, const executor& ex, success_hook on_success,
                           responder done) {
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
  // The outcome, on `ex` (the runtime's callback runs on an actor thread: hand it over).
  auto finish = [this, &plan, id, if_match = meta.if_match, started, on_success = std::move(on_success),
                 done = std::move(done)](annal::command_result r) {
    auto record = [&](const std::string& outcome) {
      metrics_.command_done(plan.name, outcome, std::chrono::steady_clock::now() - started);
    };
    if (r) {
      record("ok");
      if (on_success)
        on_success(*r);
      json body = {{plan.id_field, id}, {"version", r->version}, {"position", r->position}};
      return done(http_response{plan.success_status, body.dump(), "application/json", r->duplicate});
    }
    auto err = to_command_error(r.error(), std::string{A::category} + " '" + id + "'",
                                !if_match && plan.expect == expectation::create,
                                plan.expect == expectation::exists);
    record(err.code);
    done(error_response(err));
  };
  // The runtime answers every command (its own deadline is command_timeout).
  rt_.send<A>(id, std::move(cmd), std::move(o),
              [ex, finish = std::move(finish)](annal::command_result r) mutable {
                boost::asio::post(ex, [finish = std::move(finish), r = std::move(r)]() mutable {
                  finish(std::move(r));
                });
              });
}

void shop_service::create_product(const create_product_request& r, const executor& ex, responder done) {
  static const command_plan plan{"create_product", expectation::create, 201, "sku"};
  product_state created{true, r.sku, r.name, r.price_cents};
  execute<product>(plan, r.sku, shop::create_product{r.sku, r.name, r.price_cents}, r.meta, ex,
                   [this, created](const annal::command_reply& reply) {
                     if (!reply.duplicate) // a replay answers for the first request's body
                       prices_.created(created.sku, created);
                   },
                   std::move(done));
}

void shop_service::change_price(const change_price_request& r, const executor& ex, responder done) {
  static const command_plan plan{"change_price", expectation::exists, 200, "sku"};
  execute<product>(plan, r.sku, shop::change_price{r.price_cents}, r.meta, ex,
                   [this, sku = r.sku, price = r.price_cents](const annal::command_reply& reply) {
                     if (!reply.duplicate)
                       prices_.priced(sku, reply.version, price);
                   },
                   std::move(done));
}

void shop_service::restock(const restock_request& r, const executor& ex, responder done) {
  static const command_plan plan{"restock", expectation::any, 200, "sku"};
  // Stock is kept for products only: the product aggregate says whether it exists.
  auto p = prices_.current(r.sku);
  if (!p)
    return done(error_response(to_api_error(p.error())));
  if (!*p)
    return done(error_response(not_found("no product '" + r.sku + "'")));
  execute<inventory>(plan, r.sku, shop::restock{r.quantity}, r.meta, ex, nullptr, std::move(done));
}

void shop_service::place_order(const place_order_request& r, const executor& ex, responder done) {
  static const command_plan plan{"place_order", expectation::create, 201, "order_id"};
  auto id = r.order_id ? *r.order_id : new_order_id(r.meta.idempotency_key);
  // Prices as the product aggregates stand after every product command acknowledged.
  std::vector<order_line> lines;
  lines.reserve(r.lines.size());
  for (const auto& l : r.lines) {
    auto p = prices_.current(l.sku);
    if (!p)
      return done(error_response(to_api_error(p.error())));
    if (!*p) {
      metrics_.command_done(plan.name, "rejected", std::chrono::nanoseconds{0});
      return done(error_response(conflict("rejected", "unknown sku '" + l.sku + "'")));
    }
    lines.push_back(order_line{l.sku, l.quantity, (*p)->price_cents});
  }
  execute<order>(plan, id, shop::place_order{id, r.customer_id, std::move(lines)}, r.meta, ex,
                 nullptr, std::move(done));
}

void shop_service::pay_order(const pay_order_request& r, const executor& ex, responder done) {
  static const command_plan plan{"pay_order", expectation::exists, 200, "order_id"};
  execute<order>(plan, r.order_id, shop::pay_order{r.amount_cents}, r.meta, ex, nullptr, std::move(done));
}

void shop_service::ship_order(const ship_order_request& r, const executor& ex, responder done) {
  static const command_plan plan{"ship_order", expectation::exists, 200, "order_id"};
  execute<order>(plan, r.order_id, shop::ship_order{}, r.meta, ex, nullptr, std::move(done));
}

void shop_service::cancel_order(const cancel_order_request& r, const executor& ex, responder done) {
  static const command_plan plan{"cancel_order", expectation::exists, 200, "order_id"};
  execute<order>(plan, r.order_id, shop::cancel_order{r.reason}, r.meta, ex, nullptr, std::move(done));
}

} // namespace shop::node
