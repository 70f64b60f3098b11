#include "shop/client/shop_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <thread>

namespace shop::client {

namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

std::string reply::error() const {
  if (json.is_object() && json.contains("error") && json["error"].is_string())
    return json["error"].get<std::string>();
  return {};
}

// One keep-alive connection, reopened when the server closed it.
struct shop_client::connection {
  boost::asio::io_context ioc;
  tcp::socket socket{ioc};
  boost::beast::flat_buffer buffer;
};

shop_client::shop_client(const std::string& host, int port, client_options options)
  : host_(host), port_(port), options_(std::move(options)) {}

shop_client::~shop_client() = default;
shop_client::shop_client(shop_client&&) noexcept = default;
shop_client& shop_client::operator=(shop_client&&) noexcept = default;

namespace {

// Blocking socket timeouts, so that a caller never hangs on a silent server.
void set_timeouts(tcp::socket& s, std::chrono::seconds timeout) {
  timeval tv{static_cast<time_t>(timeout.count()), 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

} // namespace

reply shop_client::send(const std::string& method, const std::string& path, const std::string& body,
                        const std::string& content_type, const headers& h) {
  bhttp::request<bhttp::string_body> req;
  req.method_string(method);
  req.target(path);
  req.version(11);
  req.set(bhttp::field::host, host_ + ":" + std::to_string(port_));
  for (const auto& [k, v] : h)
    req.insert(k, v);
  if (!options_.token.empty() && h.count("Authorization") == 0)
    req.set(bhttp::field::authorization, "Bearer " + options_.token);
  if (!content_type.empty())
    req.set(bhttp::field::content_type, content_type);
  req.body() = body;
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
    req.prepare_payload();
  // A reused connection may have been closed by the server meanwhile (idle deadline):
  // then once more on a fresh one, but only if nothing of the request was answered.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = conn_ != nullptr;
    if (!conn_) {
      auto c = std::make_unique<connection>();
      boost::system::error_code ec;
      tcp::resolver resolver{c->ioc};
      auto endpoints = resolver.resolve(host_, std::to_string(port_), ec);
      if (!ec)
        boost::asio::connect(c->socket, endpoints, ec);
      if (ec)
        return {};
      c->socket.set_option(tcp::no_delay(true), ec);
      set_timeouts(c->socket, options_.timeout);
      conn_ = std::move(c);
    }
    boost::system::error_code ec;
    bhttp::write(conn_->socket, req, ec);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.skip(method == "HEAD");
    std::size_t got = 0;
    if (!ec)
      got = bhttp::read(conn_->socket, conn_->buffer, parser, ec);
    if (ec) {
      conn_.reset();
      if (reused && got == 0)
        continue;
      return {};
    }
    auto& res = parser.get();
    reply out;
    out.status = static_cast<int>(res.result_int());
    out.text = res.body();
    for (const auto& f : res)
      out.headers.emplace(std::string{f.name_string()}, std::string{f.value()});
    out.json = nlohmann::json::parse(out.text, nullptr, false);
    if (out.json.is_discarded())
      out.json = nullptr;
    if (!res.keep_alive())
      conn_.reset();
    return out;
  }
  return {};
}

reply shop_client::get(const std::string& path, const headers& h) {
  return send("GET", path, {}, {}, h);
}

reply shop_client::post(const std::string& path, const nlohmann::json& body, const headers& h) {
  return send("POST", path, body.dump(), "application/json", h);
}

reply shop_client::post_raw(const std::string& path, const std::string& body,
                            const std::string& content_type, const headers& h) {
  return send("POST", path, body, content_type, h);
}

reply shop_client::create_product(const std::string& sku, const std::string& name, int64_t price) {
  return post("/products", {{"sku", sku}, {"name", name}, {"price_cents", price}});
}

reply shop_client::restock(const std::string& sku, int64_t quantity) {
  return post("/inventory/" + sku + "/restock", {{"quantity", quantity}});
}

reply shop_client::place_order(const std::string& customer,
                               const std::vector<std::pair<std::string, int64_t>>& lines,
                               const std::string& order_id, const headers& h) {
  nlohmann::json body = {{"customer_id", customer}, {"lines", nlohmann::json::array()}};
  for (const auto& [sku, q] : lines)
    body["lines"].push_back({{"sku", sku}, {"quantity", q}});
  if (!order_id.empty())
    body["order_id"] = order_id;
  return post("/orders", body, h);
}

reply shop_client::order(const std::string& id, uint64_t min_position) {
  auto path = "/orders/" + id;
  if (min_position > 0)
    path += "?min_position=" + std::to_string(min_position);
  return get(path);
}

std::string shop_client::await_decided(const std::string& id) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string status;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = order(id);
    if (r.status == 200) {
      status = r.json["status"].get<std::string>();
      if (status != "placed")
        return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return status;
}

std::optional<std::vector<std::string>> shop_client::placed_order_ids() {
  std::vector<std::string> out;
  uint64_t after = 0;
  for (int pages = 0; pages < 100000; ++pages) {
    auto page = get("/events?after=" + std::to_string(after) + "&limit=1000");
    if (page.status != 200)
      return std::nullopt;
    const auto& evs = page.json["events"];
    for (const auto& e : evs)
      if (e["type"] == "OrderPlaced")
        out.push_back(e["data"]["order_id"].get<std::string>());
    if (evs.empty())
      break;
    after = evs.back()["position"].get<uint64_t>();
  }
  return out;
}

} // namespace shop::client
