// The listener: accepts connections on the first event loop, hands them round robin to the
// loops (one per thread), serves them up to the cap and refuses the rest with 503.
#include "shop/node/http_server.hpp"

#include <sys/resource.h>

#include <thread>

#include "annal/log.hpp"
#include "http_core.hpp"

namespace shop::node {

using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

/// File descriptors kept for the stores, logs and the runtime besides connections.
constexpr std::size_t reserved_fds = 128;

// Connections the descriptor limit allows (raising the soft limit to the hard one).
std::size_t descriptor_budget() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return 1024;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &lim);
    (void)::getrlimit(RLIMIT_NOFILE, &lim);
  }
  return lim.rlim_cur > reserved_fds * 2 ? static_cast<std::size_t>(lim.rlim_cur) - reserved_fds
                                         : static_cast<std::size_t>(lim.rlim_cur) / 2;
}

void accept_next(http_server::core& c);

void on_accept(http_server::core& c, const error_code& ec, loop_socket socket) {
  if (c.stopping || ec == boost::asio::error::operation_aborted)
    return;
  if (ec) {
    // Out of descriptors (or another transient failure): the pending connections wait in
    // the backlog; try again shortly instead of spinning.
    c.accept_retry.expires_after(std::chrono::milliseconds(50));
    c.accept_retry.async_wait([&c](const error_code& e) {
      if (!e)
        accept_next(c);
    });
    return;
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  if (c.open.load() >= c.max_connections) {
    // Refusals hold a descriptor briefly too: past a bound, close at once.
    if (c.refusing.load() < c.max_connections / 4 + 64)
      refuse_connection(c, std::move(socket));
  } else {
    serve_connection(c, std::move(socket));
  }
  accept_next(c);
}

void accept_next(http_server::core& c) {
  // The socket belongs to the next loop: its connection's handlers all run on that thread.
  auto& loop = *c.loops[c.next_loop++ % c.loops.size()];
  c.acceptor.async_accept(loop.get_executor(), [&c](const error_code& ec, loop_socket s) {
    on_accept(c, ec, std::move(s));
  });
}

std::vector<std::unique_ptr<boost::asio::io_context>> make_loops(unsigned n) {
  std::vector<std::unique_ptr<boost::asio::io_context>> loops;
  for (unsigned i = 0; i < std::max(1u, n); ++i)
    loops.push_back(std::make_unique<boost::asio::io_context>(1)); // run by one thread
  return loops;
}

// Runs `loop` until it is stopped; a handler that throws (a bug) is logged, not fatal.
void run_loop(boost::asio::io_context& loop) {
  for (;;) {
    try {
      loop.run();
      return;
    } catch (const std::exception& e) {
      annal::log(annal::log_level::error, std::string{"http: event loop: "} + e.what());
    }
  }
}

} // namespace

http_server::core::core(shop_service& s, node_metrics& m, http_server_options o)
  : service(s), metrics(m), options(std::move(o)), loops(make_loops(options.io_threads)),
    max_connections(options.max_connections) {
  for (auto& loop : loops)
    keep_running.push_back(boost::asio::make_work_guard(*loop));
}

http_server::http_server(shop_service& service, node_metrics& metrics, http_server_options options)
  : core_(std::make_unique<core>(service, metrics, std::move(options))) {}

http_server::~http_server() {
  stop();
  // core_ goes now: its event loop destroys every connection still open.
}

void http_server::add_route(extra_route route) {
  core_->routes.push_back(std::move(route));
}

void http_server::add_public_route(extra_route route) {
  core_->public_routes.push_back(std::move(route));
}

void http_server::add_stream_route(stream_route route) {
  core_->stream_routes.push_back(std::move(route));
}

annal::result<int> http_server::bind(const std::string& host, uint16_t port) {
  auto& c = *core_;
  c.max_connections = std::min(c.options.max_connections, descriptor_budget());
  error_code ec;
  auto address = boost::asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec)
    return annal::make_error(annal::errc::io_error, "cannot listen on " + host + ": " + ec.message());
  tcp::endpoint endpoint{address, port};
  c.acceptor.open(endpoint.protocol(), ec);
  if (!ec)
    c.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec)
    c.acceptor.bind(endpoint, ec);
  if (!ec)
    c.acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    c.acceptor.close(ignored);
    return annal::make_error(annal::errc::io_error, "cannot listen on " + host + ":"
                                                      + std::to_string(port) + ": " + ec.message());
  }
  return static_cast<int>(c.acceptor.local_endpoint().port());
}

bool http_server::run() {
  auto& c = *core_;
  if (!c.acceptor.is_open())
    return false;
  accept_next(c);
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < c.loops.size(); ++i)
    threads.emplace_back([&c, i] { run_loop(*c.loops[i]); });
  run_loop(*c.loops.front());
  for (auto& t : threads)
    t.join();
  return true;
}

void http_server::begin_drain() {
  core_->draining = true;
}

bool http_server::wait_idle(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (core_->in_flight.load() > 0) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

void http_server::stop() {
  auto& c = *core_;
  if (c.stopping.exchange(true))
    return;
  for (auto& loop : c.loops)
    loop->stop();
}

std::size_t http_server::connections() const noexcept {
  return core_->open.load();
}

} // namespace shop::node
