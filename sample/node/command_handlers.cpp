// The command endpoints: each becomes one command to one aggregate, answered once the
// command's events are durable (or it is refused). The answer continues on the request's
// executor: the runtime's callback only hands the outcome over.
#include <nlohmann/json.hpp>

#include <boost/asio/dispatch.hpp>
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
      if (cluster_reads_ != nullptr) // what a query on any node waits for (read-your-writes)
        body["read_token"] = std::to_string(r->shard) + ":" + std::to_string(r->shard_position);
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

namespace {

// `fn`, run on `ex` (the request's strand): a lookup of a product another node owns
// answers on an actor thread. Inline when already there (a local lookup answers at once).
template <class F>
auto on_executor(const executor& ex, F fn) {
  return [ex, fn = std::move(fn)](auto r) mutable {
    boost::asio::dispatch(ex, [fn = std::move(fn), r = std::move(r)]() mutable { fn(std::move(r)); });
  };
}

using price_lookup = annal::result<std::optional<product_state>>;

// The lines of one order while their products are looked up (all on the request's strand).
struct order_pricing {
  std::vector<order_line> lines;
  std::size_t pending = 0;
  bool failed = false;
};

} // namespace

void shop_service::restock(const restock_request& r, const executor& ex, responder done) {
  static const command_plan plan{"restock", expectation::any, 200, "sku"};
  // Stock is kept for products only: the product aggregate says whether it exists.
  prices_.current(r.sku, on_executor(ex, [this, r, ex, done = std::move(done)](price_lookup p) mutable {
    if (!p)
      return done(error_response(to_api_error(p.error())));
    if (!*p)
      return done(error_response(not_found("no product '" + r.sku + "'")));
    execute<inventory>(plan, r.sku, shop::restock{r.quantity}, r.meta, ex, nullptr, std::move(done));
  }));
}

void shop_service::place_order(const place_order_request& r, const executor& ex, responder done) {
  static const command_plan plan{"place_order", expectation::create, 201, "order_id"};
  auto id = r.order_id ? *r.order_id : new_order_id(r.meta.idempotency_key);
  // Prices as the product aggregates stand after every product command acknowledged: all
  // lines are looked up at once (each may ask another node), the order goes when all are in.
  auto pricing = std::make_shared<order_pricing>();
  pricing->lines.resize(r.lines.size());
  pricing->pending = r.lines.size();
  auto send = [this, pricing, id, customer = r.customer_id, meta = r.meta, ex, done]() {
    execute<order>(plan, id, shop::place_order{id, customer, std::move(pricing->lines)}, meta, ex,
                   nullptr, done);
  };
  if (r.lines.empty())
    return send(); // the order refuses it
  for (std::size_t i = 0; i < r.lines.size(); ++i) {
    const auto& l = r.lines[i];
    prices_.current(l.sku, on_executor(ex, [this, pricing, i, sku = l.sku, quantity = l.quantity, done,
                                            send](price_lookup p) {
      if (pricing->failed)
        return; // answered already
      if (!p || !*p) {
        pricing->failed = true;
        if (!p)
          return done(error_response(to_api_error(p.error())));
        metrics_.command_done(plan.name, "rejected", std::chrono::nanoseconds{0});
        return done(error_response(conflict("rejected", "unknown sku '" + sku + "'")));
      }
      pricing->lines[i] = order_line{sku, quantity, (*p)->price_cents};
      if (--pricing->pending == 0)
        send();
    }));
  }
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
