// The HTTP front of the node: an event-driven HTTP/1.1 server (Boost.Beast on Asio). A
// few I/O threads serve every connection; an idle or slow connection costs no thread, a
// request that waits (a command's outcome, a read model's min_position) holds no thread
// either. Every API route goes through parse_request + shop_service; bearer-token check,
// a 1 MiB body limit, header and body deadlines, a connection cap (503, then close) and
// a graceful drain on shutdown.
//
// More routes plug in before run(): add_route() (after the token check), add_public_route()
// (before it: the page's static files, which hold no data) and add_stream_route()
// (server-sent events, see http_stream.hpp).
//
// Thread safety: add_route(), bind() and run() once, from the owning thread;
// begin_drain(), wait_idle(), stop() and the counters from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "annal/result.hpp"
#include "shop/http/request_view.hpp"
#include "shop/node/http_stream.hpp"
#include "shop/node/metrics.hpp"
#include "shop/node/shop_service.hpp"

namespace shop::node {

struct http_server_options {
  /// Required bearer token (empty: none).
  std::string token;
  /// Event loops, one thread each (every connection's I/O and the handlers' quick work,
  /// which includes short store reads: a few loops keep one slow read from stalling all).
  unsigned io_threads = 4;
  /// Connections served at once; one more is answered 503 and closed. Lowered at bind()
  /// to what the process's file descriptor limit allows.
  std::size_t max_connections = 10000;
  /// A keep-alive connection may wait this long for its next request.
  std::chrono::milliseconds idle_timeout{60000};
  /// From a request's first byte to the end of its headers (slow clients are dropped).
  std::chrono::milliseconds header_timeout{10000};
  /// To receive the body once the headers are in.
  std::chrono::milliseconds body_timeout{10000};
  /// To send a response.
  std::chrono::milliseconds write_timeout{10000};
};

/// A route beside the API, consulted first (after the token check): answers through
/// `done` (on any thread) and returns true, or returns false to leave the request to the
/// API. For small JSON endpoints, static files or a page; streams use stream_route.
using extra_route = std::function<bool(const http::request_view& request, responder done)>;

class http_server {
public:
  http_server(shop_service& service, node_metrics& metrics, http_server_options options);
  /// Stops (if running) and closes every connection.
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Adds a route consulted before the API's (in the order added). Before run().
  void add_route(extra_route route);

  /// Adds a route consulted before the token check: for files that hold no data (the
  /// page, its scripts, the API's description), which a browser loads without a header.
  void add_public_route(extra_route route);

  /// Adds a streaming route (server-sent events), consulted first after the token check.
  /// A stream does not count as a request in flight (wait_idle does not wait for it).
  void add_stream_route(stream_route route);

  /// Binds to host:port (port 0: any free one) with a full listen backlog and returns the
  /// bound port. Errors: io_error.
  annal::result<int> bind(const std::string& host, uint16_t port);

  /// Serves until stop(), on this thread and io_threads - 1 more. Returns false when
  /// listening failed.
  bool run();

  /// From now on every new request gets 503 unavailable.
  void begin_drain();

  /// Waits until no request is being handled, up to `timeout`; false on timeout.
  bool wait_idle(std::chrono::milliseconds timeout);

  /// Stops serving: run() returns; open connections are dropped.
  void stop();

  /// Connections open now (served ones, not those being refused).
  std::size_t connections() const noexcept;

  struct core; // (public only for the implementation's connection class)

private:
  std::unique_ptr<core> core_;
};

} // namespace shop::node
