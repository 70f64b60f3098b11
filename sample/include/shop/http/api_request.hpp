// The requests of the HTTP API after routing and validation: every field present, typed
// and within bounds. A handler can act on one without checking anything again. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace shop::http {

/// What the headers of a command ask for.
struct command_meta {
  /// Idempotency-Key: the same key again gets the first answer and writes nothing.
  std::string idempotency_key;
  /// If-Match: the stream version the client based the command on.
  std::optional<uint64_t> if_match;
};

/// A cluster's read-your-writes token (a command's "read_token", "<shard>:<position>"):
/// the shard and the shard position of the command's last event.
struct read_token {
  uint16_t shard = 0;
  uint64_t shard_position = 0;
};

/// What every query may ask for: wait until the read model reflects this global position
/// of the node's journal (one node), or this token's event (a cluster).
struct query_meta {
  uint64_t min_position = 0;
  std::optional<read_token> token;
};

// -- commands (POST) ------------------------------------------------------------------------

struct create_product_request {
  command_meta meta;
  std::string sku;
  std::string name;
  int64_t price_cents = 0;
};

struct change_price_request {
  command_meta meta;
  std::string sku;
  int64_t price_cents = 0;
};

struct restock_request {
  command_meta meta;
  std::string sku;
  int64_t quantity = 0;
};

struct line_request {
  std::string sku;
  int64_t quantity = 0;
};

struct place_order_request {
  command_meta meta;
  /// Absent: the node makes one up (derived from the idempotency key when there is one).
  std::optional<std::string> order_id;
  std::string customer_id;
  /// One line per sku (repeated skus are merged), in the order given.
  std::vector<line_request> lines;
};

struct pay_order_request {
  command_meta meta;
  std::string order_id;
  int64_t amount_cents = 0;
};

struct ship_order_request {
  command_meta meta;
  std::string order_id;
};

struct cancel_order_request {
  command_meta meta;
  std::string order_id;
  std::string reason;
};

// -- queries (GET) --------------------------------------------------------------------------

struct get_product_request {
  query_meta query;
  std::string sku;
};

struct get_inventory_request {
  query_meta query;
  std::string sku;
};

struct get_order_request {
  query_meta query;
  std::string order_id;
  /// Answer from the order's first N events instead of the read model.
  std::optional<uint64_t> at_version;
};

struct get_customer_orders_request {
  query_meta query;
  std::string customer_id;
};

struct get_sales_request {
  query_meta query;
};

struct get_stream_events_request {
  std::string stream;
  uint64_t from = 1;
  uint64_t limit = 100;
};

struct get_events_request {
  uint64_t after = 0;
  uint64_t limit = 100;
};

struct get_projections_request {};
struct get_health_request {};
struct get_metrics_request {};

/// Page sizes of the event endpoints.
inline constexpr uint64_t default_event_page = 100;
inline constexpr uint64_t max_event_page = 1000;

using api_request =
  std::variant<create_product_request, change_price_request, restock_request,
               place_order_request, pay_order_request, ship_order_request, cancel_order_request,
               get_product_request, get_inventory_request, get_order_request,
               get_customer_orders_request, get_sales_request, get_stream_events_request,
               get_events_request, get_projections_request, get_health_request,
               get_metrics_request>;

/// Stable name of a request kind, e.g. "place_order" (metrics labels, logs).
const char* request_name(const api_request& r) noexcept;

/// True for the requests that write (commands).
bool is_command(const api_request& r) noexcept;

} // namespace shop::http
