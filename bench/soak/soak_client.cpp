#include "soak/soak_client.hpp"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace annal::soak {

namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

std::string reply::error() const {
  if (json.is_object() && json.contains("error") && json["error"].is_string())
    return json["error"].get<std::string>();
  return {};
}

// One keep-alive connection, opened on first use and after the server closed it.
struct soak_client::connection {
  boost::asio::io_context ioc;
  tcp::socket socket{ioc};
  boost::beast::flat_buffer buffer;
};

soak_client::soak_client(int port, std::chrono::seconds timeout) : port_(port), timeout_(timeout) {}

soak_client::~soak_client() = default;
soak_client::soak_client(soak_client&&) noexcept = default;
soak_client& soak_client::operator=(soak_client&&) noexcept = default;

bool soak_client::connect() {
  auto c = std::make_unique<connection>();
  boost::system::error_code ec;
  c->socket.connect(tcp::endpoint{boost::asio::ip::make_address("127.0.0.1"),
                                  static_cast<unsigned short>(port_)},
                    ec);
  if (ec)
    return false;
  c->socket.set_option(tcp::no_delay(true), ec);
  // Blocking reads and writes give up after the timeout: a silent node is a hang to
  // report, not a driver that blocks forever.
  timeval tv{static_cast<time_t>(timeout_.count()), 0};
  ::setsockopt(c->socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(c->socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  conn_ = std::move(c);
  return true;
}

reply soak_client::request(bool post, const std::string& path, const std::string& body) {
  bhttp::request<bhttp::string_body> req{post ? bhttp::verb::post : bhttp::verb::get, path, 11};
  req.set(bhttp::field::host, "127.0.0.1:" + std::to_string(port_));
  if (post) {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
  }
  // A kept connection may have been closed by the node (idle deadline, restart): then once
  // more on a fresh one, but only when nothing at all came back.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = conn_ != nullptr;
    if (!conn_ && !connect())
      return {};
    boost::system::error_code ec;
    bhttp::write(conn_->socket, req, ec);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
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
    out.json = nlohmann::json::parse(out.text, nullptr, false);
    if (out.json.is_discarded())
      out.json = nullptr;
    if (!res.keep_alive())
      conn_.reset();
    return out;
  }
  return {};
}

reply soak_client::get(const std::string& path) {
  return request(false, path, {});
}

reply soak_client::post(const std::string& path, const nlohmann::json& body) {
  return request(true, path, body.dump());
}

} // namespace annal::soak
