// The shop's HTTP handlers, apart from the server: a parsed request in, a response out.
// Commands go to the aggregates and continue on their durable outcome; queries read the
// read models (after an asynchronous wait for min_position) or the journal. Orders are
// priced from the product aggregates' own state (price_book), not from a read model, and
// in a cluster from the product's owner.
//
// Thread safety: handle() may run on many threads at once. The asynchronous handle()
// never blocks on another actor: waits continue through callbacks and timers.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "annal/runtime.hpp"
#include "shop/http/api_error.hpp"
#include "shop/http/api_request.hpp"
#include "shop/node/metrics.hpp"
#include "shop/node/price_book.hpp"
#include "shop/read_models/tables.hpp"

namespace annal::cluster {
class cluster_projection;
}

namespace shop::node {

/// An HTTP answer.
struct http_response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  /// The command was answered from its idempotency key (Idempotent-Replayed: true).
  bool replayed = false;
};

/// Where a request's continuations run: serialized (a strand, or a single thread).
using executor = boost::asio::any_io_executor;
/// Receives a request's response, once.
using responder = std::function<void(http_response)>;

class shop_service {
public:
  /// How long a command may wait for its aggregate, and a query for its read model.
  static constexpr std::chrono::milliseconds command_timeout{10000};
  static constexpr std::chrono::milliseconds query_timeout{5000};

  /// `rt` is started and outlives the service; `tables` are its read-model tables;
  /// `cluster` (none outside a cluster) is the node's membership: orders and restocks of
  /// products another node owns ask that owner for the product (price_book).
  /// `cluster_reads` (in a cluster) is the projection that fills `tables` from every
  /// shard: queries then wait for a command's read_token instead of min_position.
  shop_service(annal::runtime& rt, read_model_tables tables, node_metrics& metrics,
               const annal::cluster::cluster_node* cluster = nullptr,
               const annal::cluster::cluster_projection* cluster_reads = nullptr);
  ~shop_service();
  shop_service(const shop_service&) = delete;
  shop_service& operator=(const shop_service&) = delete;

  /// Runs one request; call it on `ex`. `done` runs once with the response: at once when
  /// the answer is at hand, else later on `ex` (after a command's outcome or a read
  /// model's wait). Never blocks on a future or a condition variable.
  void handle(const http::api_request& request, const executor& ex, responder done);

  /// Runs one request and blocks until its response (the in-process benchmark, tools).
  http_response handle(const http::api_request& request);

  /// The response for an error.
  static http_response error_response(const http::api_error& e);

private:
  /// How an absent If-Match constrains a command's stream.
  enum class expectation { create, exists, any };

  struct command_plan {
    const char* name;          // metrics label, e.g. "place_order"
    expectation expect;
    int success_status;        // 200 or 201
    const char* id_field;      // "sku" or "order_id"
  };

  /// Runs after a command succeeded, before its response (on the request's executor).
  using success_hook = std::function<void(const annal::command_reply&)>;
  /// Receives the outcome of a read model's wait: none when reached, else the error.
  using wait_done = std::function<void(std::optional<http::api_error>)>;

  /// Sends `cmd` to instance `id` of A and answers with its outcome, on `ex`.
  template <class A>
  void execute(const command_plan& plan, const std::string& id, typename A::command cmd,
               const http::command_meta& meta, const executor& ex, success_hook on_success,
               responder done);

  void create_product(const http::create_product_request& r, const executor& ex, responder done);
  void change_price(const http::change_price_request& r, const executor& ex, responder done);
  void restock(const http::restock_request& r, const executor& ex, responder done);
  void place_order(const http::place_order_request& r, const executor& ex, responder done);
  void pay_order(const http::pay_order_request& r, const executor& ex, responder done);
  void ship_order(const http::ship_order_request& r, const executor& ex, responder done);
  void cancel_order(const http::cancel_order_request& r, const executor& ex, responder done);

  void get_product(const http::get_product_request& r, const executor& ex, responder done);
  void get_inventory(const http::get_inventory_request& r, const executor& ex, responder done);
  void get_order(const http::get_order_request& r, const executor& ex, responder done);
  void get_customer_orders(const http::get_customer_orders_request& r, const executor& ex,
                           responder done);
  void get_sales(const http::get_sales_request& r, const executor& ex, responder done);
  http_response get_stream_events(const http::get_stream_events_request& r);
  http_response get_events(const http::get_events_request& r);
  http_response get_projections();
  http_response get_health();
  http_response get_metrics();

  /// Calls `then` once every projection of `names` reflects `q.min_position` (at once when
  /// they do already), or with the error when `timeout` passes first (504
  /// projection_lagging) or one faults or stops (503; 507 storage_full when that is its
  /// fault). One deadline for all (annal::notify_when_all). In a cluster: once the
  /// cluster's read models reflect `q.token` (await_read_token).
  void await_projections(std::vector<std::string> names, const http::query_meta& q,
                         std::chrono::milliseconds timeout, const executor& ex, wait_done then);
  /// The cluster's wait: until cluster_reads_ applied the token's shard through its
  /// position (polled on a timer of `ex`; 504 projection_lagging after `timeout`); 400 for
  /// min_position, a position in one node's journal only.
  void await_read_token(const http::query_meta& q, std::chrono::milliseconds timeout,
                        const executor& ex, wait_done then);
  /// The error of a wait that failed: `timed_out`, or the projection faulted or stopped.
  http::api_error wait_error(const std::string& name, annal::global_position min_position,
                             bool timed_out);
  /// Answers with `answer()` once projection `name` reflects `q` (await_projections).
  void after(const std::string& name, const http::query_meta& q, const executor& ex,
             responder done, std::function<http_response()> answer);

  struct sync_runner;

  annal::runtime& rt_;
  read_model_tables tables_;
  node_metrics& metrics_;
  const annal::cluster::cluster_projection* cluster_reads_;
  /// Current product states, for pricing orders and checking restocks.
  price_book prices_;
  /// Threads for the blocking handle() (made on first use).
  std::unique_ptr<sync_runner> sync_;
  std::once_flag sync_once_;
};

/// The API error for a runtime or store error (rejected -> 409 rejected, conflict -> 409
/// version_conflict, storage_full -> 507, timeout -> 504, unavailable and overloaded ->
/// 503, io_error and corrupt -> 500 internal, ...).
http::api_error to_api_error(const annal::error& e);

/// The API error of a failed command on `entity` (e.g. "order 'o-1'"). A version conflict
/// is told in the client's words from the versions it carries: 409 already_exists when the
/// command `creates` and the stream has events, 404 when it `must_exist` and has none;
/// anything else as to_api_error.
http::api_error to_command_error(const annal::error& e, const std::string& entity, bool creates,
                                 bool must_exist);

/// A fresh order id: derived from the idempotency key when there is one (so that a
/// retried request addresses the same order), random otherwise.
std::string new_order_id(const std::string& idempotency_key);

} // namespace shop::node
