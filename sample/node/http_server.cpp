#include "shop/node/http_server.hpp"

#include <httplib.h>

#include <thread>

#include "annal/log.hpp"
#include "shop/http/request_parser.hpp"

namespace shop::node {

namespace {

void write(httplib::Response& res, const http_response& r) {
  res.status = r.status;
  res.set_content(r.body, r.content_type.c_str());
  if (r.replayed)
    res.set_header("Idempotent-Replayed", "true");
  if (r.status == 503)
    res.set_header("Retry-After", "1");
}

// Constant-time comparison: the token must not leak through response timing.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  return diff == 0 && !b.empty();
}

// The error code of a status that cpp-httplib answered on its own.
http::api_error library_error(int status) {
  switch (status) {
    case 413: return http::payload_too_large();
    case 404: return http::not_found("no such route");
    case 414: return {414, "bad_request", "the request URI is too long"};
    default: return {status, status >= 500 ? "internal" : "bad_request", "malformed HTTP request"};
  }
}

} // namespace

http_server::http_server(shop_service& service, node_metrics& metrics, http_server_options options)
  : service_(service), metrics_(metrics), options_(std::move(options)),
    server_(std::make_unique<httplib::Server>()) {
  auto& s = *server_;
  auto threads = options_.threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_payload_max_length(http::max_body_bytes);
  s.set_keep_alive_max_count(100000);
  s.set_keep_alive_timeout(2); // bounds how long an idle connection delays a shutdown
  s.set_read_timeout(10);
  s.set_write_timeout(10);
  s.set_tcp_nodelay(true);
  // Every method and path reaches parse_request, which owns the routing (and answers 404).
  httplib::Server::Handler handler = [this](const httplib::Request& req, httplib::Response& res) {
    serve(req, res);
  };
  s.Get(".*", handler);
  s.Post(".*", handler);
  s.Put(".*", handler);
  s.Patch(".*", handler);
  s.Delete(".*", handler);
  s.Options(".*", handler);
  // Statuses cpp-httplib sets itself (413, malformed requests) get a JSON body too.
  s.set_error_handler(httplib::Server::HandlerWithResponse{[this](const httplib::Request&,
                                                                 httplib::Response& res) {
    if (!res.body.empty())
      return httplib::Server::HandlerResponse::Unhandled;
    write(res, shop_service::error_response(library_error(res.status)));
    metrics_.response_sent(res.status);
    return httplib::Server::HandlerResponse::Handled;
  }});
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    write(res, shop_service::error_response({500, "internal", "unexpected exception"}));
  });
}

http_server::~http_server() = default;

void http_server::serve(const httplib::Request& req, httplib::Response& res) {
  in_flight_.fetch_add(1);
  struct leave {
    std::atomic<int>& n;
    ~leave() { n.fetch_sub(1); }
  } guard{in_flight_};
  // Checked after the body was read (not in a pre-routing handler): answering before it
  // would leave the body in a keep-alive connection, to be misread as the next request.
  if (!options_.token.empty()
      && !same_secret(req.get_header_value("Authorization"), "Bearer " + options_.token)) {
    write(res, shop_service::error_response(http::unauthorized()));
    metrics_.response_sent(res.status);
    return;
  }
  if (draining_) {
    write(res, shop_service::error_response(http::unavailable("the node is shutting down")));
    metrics_.response_sent(res.status);
    return;
  }
  http::request_view view;
  view.method = req.method;
  view.path = req.path;
  view.body = req.body;
  view.query.reserve(req.params.size());
  for (const auto& [k, v] : req.params)
    view.query.emplace_back(k, v);
  view.headers.reserve(req.headers.size());
  for (const auto& [k, v] : req.headers)
    view.headers.emplace_back(k, v);
  auto parsed = http::parse_request(view);
  http_response out;
  if (auto* err = std::get_if<http::api_error>(&parsed)) {
    out = shop_service::error_response(*err);
  } else {
    try {
      out = service_.handle(std::get<http::api_request>(parsed));
    } catch (const std::exception& e) { // a bug: answer, log, and keep serving
      annal::log(annal::log_level::error, std::string{"handler threw: "} + e.what());
      out = shop_service::error_response({500, "internal", "unexpected exception"});
    }
  }
  if (out.status >= 500)
    annal::log(annal::log_level::warning, req.method + " " + req.path + " -> "
                                            + std::to_string(out.status) + " " + out.body);
  write(res, out);
  metrics_.response_sent(out.status);
}

annal::result<int> http_server::bind(const std::string& host, uint16_t port) {
  int bound = port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (bound <= 0)
    return annal::make_error(annal::errc::io_error, "cannot listen on " + host + ":" + std::to_string(port));
  return bound;
}

bool http_server::run() {
  return server_->listen_after_bind();
}

void http_server::begin_drain() {
  draining_ = true;
}

bool http_server::wait_idle(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (in_flight_.load() > 0) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

void http_server::stop() {
  server_->stop();
}

} // namespace shop::node
