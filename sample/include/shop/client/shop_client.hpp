// A small blocking HTTP client of the shop's API (Boost.Beast underneath, keep-alive, every
// read and write bounded by a timeout so that a silent node is seen, never waited on
// forever), for the shop's tests, the soak driver and scripts. One client per thread.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace shop::client {

/// An HTTP answer: status (0 when the request failed at the transport), body as text and
/// as JSON (null when it is not JSON), and the response headers.
struct reply {
  int status = 0;
  std::string text;
  nlohmann::json json;
  std::multimap<std::string, std::string> headers;

  /// The error code of an error body ("" otherwise).
  std::string error() const;
  /// The global position an acknowledged command's body names.
  uint64_t position() const { return json["position"].get<uint64_t>(); }
  bool ok() const noexcept { return status >= 200 && status < 300; }
};

/// Extra request headers.
using headers = std::multimap<std::string, std::string>;

/// How a client talks to the node.
struct client_options {
  /// Sent as `Authorization: Bearer <token>` unless a request sets its own; empty: none.
  std::string token;
  /// Bound of each blocking read and write; a request that passes it fails (status 0).
  std::chrono::seconds timeout{60};
};

class shop_client {
public:
  /// A client of host:port (connected on first use, again after the node closed it).
  shop_client(const std::string& host, int port, client_options options = {});
  ~shop_client();
  shop_client(shop_client&&) noexcept;
  shop_client& operator=(shop_client&&) noexcept;

  /// A request; status 0 when it failed at the transport (refused, reset, timed out). A
  /// kept connection the node closed meanwhile is retried once on a fresh one, only when
  /// nothing of the answer came back.
  reply get(const std::string& path, const headers& h = {});
  /// A POST of `body` as JSON.
  reply post(const std::string& path, const nlohmann::json& body, const headers& h = {});
  /// A POST with a raw body and content type (empty: none).
  reply post_raw(const std::string& path, const std::string& body, const std::string& content_type,
                 const headers& h = {});
  /// Any other method.
  reply send(const std::string& method, const std::string& path, const std::string& body = {},
             const std::string& content_type = {}, const headers& h = {});

  // -- shortcuts for the common calls (REQUIRE-free: they return the reply) ---------------
  reply create_product(const std::string& sku, const std::string& name, int64_t price);
  reply restock(const std::string& sku, int64_t quantity);
  /// Lines as {sku, quantity} pairs.
  reply place_order(const std::string& customer, const std::vector<std::pair<std::string, int64_t>>& lines,
                    const std::string& order_id = {}, const headers& h = {});
  /// GET /orders/{id} (404 -> status 404).
  reply order(const std::string& id, uint64_t min_position = 0);
  /// Polls the order until its status is not "placed" (fulfilment has decided), up to 30 s.
  std::string await_decided(const std::string& id);
  /// The id of every OrderPlaced in the global log, acknowledged or not (each is
  /// fulfilment's), read page by page; none when a page cannot be read.
  std::optional<std::vector<std::string>> placed_order_ids();

private:
  struct connection;
  std::string host_;
  int port_ = 0;
  std::unique_ptr<connection> conn_;
  client_options options_;
};

} // namespace shop::client
