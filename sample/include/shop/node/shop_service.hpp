// The shop's HTTP handlers, apart from the server: a parsed request in, a response out.
// Commands go to the aggregates and wait for their durable outcome; queries read the read
// models (waiting for min_position) or the journal.
//
// Thread safety: handle() may run on many threads at once. It blocks its caller (an HTTP
// worker thread, never one of CAF's), for at most a few seconds.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "annal/runtime.hpp"
#include "shop/http/api_error.hpp"
#include "shop/http/api_request.hpp"
#include "shop/node/metrics.hpp"
#include "shop/read_models/tables.hpp"

namespace shop::node {

/// An HTTP answer.
struct http_response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  /// The command was answered from its idempotency key (Idempotent-Replayed: true).
  bool replayed = false;
};

class shop_service {
public:
  /// How long a command may wait for its aggregate, and a query for its read model.
  static constexpr std::chrono::milliseconds command_timeout{10000};
  static constexpr std::chrono::milliseconds query_timeout{5000};

  /// `rt` is started and outlives the service; `tables` are its read-model tables.
  shop_service(annal::runtime& rt, read_model_tables tables, node_metrics& metrics);

  /// Runs one request.
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

  /// Sends `cmd` to instance `id` of A and renders the outcome; `position` (if given)
  /// receives the global position of a success.
  template <class A>
  http_response execute(const command_plan& plan, const std::string& id, typename A::command cmd,
                        const http::command_meta& meta, annal::global_position* position = nullptr);

  http_response create_product(const http::create_product_request& r);
  http_response change_price(const http::change_price_request& r);
  http_response restock(const http::restock_request& r);
  http_response place_order(const http::place_order_request& r);
  http_response pay_order(const http::pay_order_request& r);
  http_response ship_order(const http::ship_order_request& r);
  http_response cancel_order(const http::cancel_order_request& r);

  http_response get_product(const http::get_product_request& r);
  http_response get_inventory(const http::get_inventory_request& r);
  http_response get_order(const http::get_order_request& r);
  http_response get_customer_orders(const http::get_customer_orders_request& r);
  http_response get_sales(const http::get_sales_request& r);
  http_response get_stream_events(const http::get_stream_events_request& r);
  http_response get_events(const http::get_events_request& r);
  http_response get_projections();
  http_response get_health();
  http_response get_metrics();

  /// Waits until the catalog reflects every product command this node acknowledged
  /// (orders take their prices from it). Errors as for await_projection.
  annal::status await_catalog();
  /// Raises the catalog fence to `position` (after a product command succeeded).
  void raise_catalog_fence(annal::global_position position);

  annal::runtime& rt_;
  read_model_tables tables_;
  node_metrics& metrics_;
  /// Position of the newest product event this node knows of.
  std::atomic<annal::global_position> catalog_fence_{0};
};

/// The API error for a runtime or store error (rejected -> 409 rejected, conflict -> 409
/// version_conflict, storage_full -> 507, timeout -> 504, unavailable and overloaded ->
/// 503, io_error and corrupt -> 500 internal, ...).
http::api_error to_api_error(const annal::error& e);

/// A fresh order id: derived from the idempotency key when there is one (so that a
/// retried request addresses the same order), random otherwise.
std::string new_order_id(const std::string& idempotency_key);

} // namespace shop::node
