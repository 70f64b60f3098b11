// The query parameters of the GET routes.
#include "parsers.hpp"

#include "shop/domain/limits.hpp"

namespace shop::http::detail {

namespace {

// Reads the optional unsigned parameter `name` into `out` (left alone when absent).
std::optional<api_error> read_param(const request_view& req, const char* name, uint64_t& out) {
  auto p = req.param(name);
  if (!p)
    return std::nullopt;
  auto v = parse_unsigned(*p);
  if (!v)
    return bad_request(std::string{"query parameter '"} + name + "' must be a decimal number");
  out = *v;
  return std::nullopt;
}

// read_token: "<shard>:<shard position>", as a command's answer gives it in a cluster.
std::optional<api_error> read_token_param(const request_view& req, query_meta& q) {
  auto p = req.param("read_token");
  if (!p)
    return std::nullopt;
  auto colon = p->find(':');
  auto shard = colon == std::string_view::npos ? std::nullopt : parse_unsigned(p->substr(0, colon));
  auto position = colon == std::string_view::npos ? std::nullopt : parse_unsigned(p->substr(colon + 1));
  if (!shard || !position || *shard > UINT16_MAX)
    return bad_request("query parameter 'read_token' must be <shard>:<position>, as a command's answer gives it");
  q.token = read_token{static_cast<uint16_t>(*shard), *position};
  return std::nullopt;
}

// min_position and read_token, the read-your-writes bounds every read-model query accepts.
std::optional<api_error> read_query_meta(const request_view& req, query_meta& q) {
  if (auto e = read_param(req, "min_position", q.min_position))
    return e;
  return read_token_param(req, q);
}

std::optional<api_error> read_limit(const request_view& req, uint64_t& limit) {
  limit = default_event_page;
  if (auto e = read_param(req, "limit", limit))
    return e;
  if (limit == 0 || limit > max_event_page)
    return bad_request("query parameter 'limit' must be 1-" + std::to_string(max_event_page));
  return std::nullopt;
}

// A query on one entity of the read models: its id and min_position.
template <class Request>
parse_result entity_query(const request_view& req, const captures& c, const char* what) {
  Request r;
  if (auto e = read_query_meta(req, r.query))
    return *e;
  auto id = c.at(0);
  if (auto e = check_id(id, what))
    return *e;
  if constexpr (std::is_same_v<Request, get_product_request> || std::is_same_v<Request, get_inventory_request>)
    r.sku = std::move(id);
  else if constexpr (std::is_same_v<Request, get_order_request>)
    r.order_id = std::move(id);
  else
    r.customer_id = std::move(id);
  return r;
}

} // namespace


parse_result parse_get_product(const request_view& req, const captures& c) {
  return entity_query<get_product_request>(req, c, "the sku");
}

parse_result parse_get_inventory(const request_view& req, const captures& c) {
  return entity_query<get_inventory_request>(req, c, "the sku");
}

parse_result parse_get_order(const request_view& req, const captures& c) {
  auto r = entity_query<get_order_request>(req, c, "the order id");
  auto* order = std::get_if<api_request>(&r);
  if (order == nullptr)
    return r;
  auto& get = std::get<get_order_request>(*order);
  if (req.param("at_version")) {
    uint64_t v = 0;
    if (auto e = read_param(req, "at_version", v))
      return *e;
    if (v == 0)
      return bad_request("query parameter 'at_version' must be 1 or more");
    get.at_version = v;
  }
  return r;
}

parse_result parse_get_customer_orders(const request_view& req, const captures& c) {
  return entity_query<get_customer_orders_request>(req, c, "the customer id");
}

parse_result parse_get_sales(const request_view& req, const captures&) {
  get_sales_request r;
  if (auto e = read_query_meta(req, r.query))
    return *e;
  return r;
}

parse_result parse_get_stream_events(const request_view& req, const captures& c) {
  get_stream_events_request r;
  r.stream = c.at(0);
  // The journal's own rule for stream ids (validate_stream_id), checked here so that a
  // bad id is a 400 and not a store error.
  if (r.stream.empty() || r.stream.size() > 255 || r.stream.find('\0') != std::string::npos)
    return bad_request("the stream id must be 1-255 bytes without NUL");
  if (auto e = read_param(req, "from", r.from))
    return *e;
  if (r.from == 0)
    r.from = 1;
  if (auto e = read_limit(req, r.limit))
    return *e;
  uint64_t ignored = 0;
  if (auto e = read_param(req, "min_position", ignored)) // accepted: the journal is never behind
    return *e;
  return r;
}

parse_result parse_get_events(const request_view& req, const captures&) {
  get_events_request r;
  if (auto e = read_param(req, "after", r.after))
    return *e;
  if (auto e = read_limit(req, r.limit))
    return *e;
  uint64_t ignored = 0;
  if (auto e = read_param(req, "min_position", ignored))
    return *e;
  return r;
}

parse_result parse_get_projections(const request_view& req, const captures&) {
  uint64_t ignored = 0;
  if (auto e = read_param(req, "min_position", ignored))
    return *e;
  return get_projections_request{};
}

parse_result parse_get_health(const request_view& req, const captures&) {
  uint64_t ignored = 0;
  if (auto e = read_param(req, "min_position", ignored))
    return *e;
  return get_health_request{};
}

parse_result parse_get_metrics(const request_view&, const captures&) {
  return get_metrics_request{};
}

} // namespace shop::http::detail
