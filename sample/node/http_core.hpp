// The parts of the HTTP server that its connections share (private to sample/node).
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <vector>

#include "shop/node/http_server.hpp"

namespace shop::node {

struct http_server::core {
  core(shop_service& s, node_metrics& m, http_server_options o);

  shop_service& service;
  node_metrics& metrics;
  http_server_options options;
  std::vector<extra_route> routes;
  std::vector<extra_route> public_routes;
  std::vector<stream_route> stream_routes;
  /// One event loop per thread (options.io_threads): a connection stays on the loop it was
  /// accepted onto, so its handlers never run at once and the loops share no lock.
  std::vector<std::unique_ptr<boost::asio::io_context>> loops;
  /// Keep every loop running while it has no connection yet.
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> keep_running;
  /// The loop the next accepted connection goes to (round robin; used on loops[0] only).
  std::size_t next_loop = 0;
  boost::asio::ip::tcp::acceptor acceptor{*loops.front()};
  /// Accepting again after the process ran out of file descriptors.
  boost::asio::steady_timer accept_retry{*loops.front()};
  std::atomic<bool> draining{false};
  std::atomic<bool> stopping{false};
  /// Requests read and not answered yet.
  std::atomic<int> in_flight{0};
  /// Connections being served, and connections being refused (503, then close).
  std::atomic<std::size_t> open{0};
  std::atomic<std::size_t> refusing{0};
  std::size_t max_connections;
};

/// A socket bound to one event loop by type: its operations need no polymorphic executor
/// (asio's any_io_executor was copied and destroyed around every operation).
using loop_socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp,
                                                     boost::asio::io_context::executor_type>;

/// Serves one accepted connection until it closes (it keeps itself alive meanwhile).
void serve_connection(http_server::core& core, loop_socket socket);

/// Answers an accepted connection over the cap with 503 and closes it.
void refuse_connection(http_server::core& core, loop_socket socket);

} // namespace shop::node
