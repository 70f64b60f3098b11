// The HTTP front of the node (cpp-httplib): one thread per connection from a bounded
// pool, every route handled by parse_request + shop_service, bearer-token check, a 1 MiB
// body limit, and a graceful drain on shutdown.
//
// Thread safety: bind() and run() once, from the owning thread; begin_drain(),
// wait_idle() and stop() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "annal/result.hpp"
#include "shop/node/metrics.hpp"
#include "shop/node/shop_service.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
} // namespace httplib

namespace shop::node {

struct http_server_options {
  /// Required bearer token (empty: none).
  std::string token;
  unsigned threads = 32;
};

class http_server {
public:
  http_server(shop_service& service, node_metrics& metrics, http_server_options options);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds to host:port (port 0: any free one) and returns the bound port. Errors: io_error.
  annal::result<int> bind(const std::string& host, uint16_t port);

  /// Serves until stop(). Returns false when listening failed.
  bool run();

  /// From now on every new request gets 503 unavailable.
  void begin_drain();

  /// Waits until no request is being handled, up to `timeout`; false on timeout.
  bool wait_idle(std::chrono::milliseconds timeout);

  /// Stops listening; run() returns once the requests in progress are answered.
  void stop();

private:
  void serve(const httplib::Request& req, httplib::Response& res);

  shop_service& service_;
  node_metrics& metrics_;
  http_server_options options_;
  std::unique_ptr<httplib::Server> server_;
  std::atomic<bool> draining_{false};
  std::atomic<int> in_flight_{0};
};

} // namespace shop::node
