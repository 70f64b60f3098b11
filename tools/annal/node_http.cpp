#include "node_http.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <regex>

namespace annal::cli {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

outcome<node_address> parse_node_url(const std::string& url) {
  static const std::regex url_form{R"(^http://(\[[^\]]+\]|[^:/]+):([0-9]{1,5})/?$)"};
  std::smatch m;
  if (!std::regex_match(url, m, url_form))
    return failure{exit_code::usage, "--url must be http://HOST:PORT, not '" + url + "'"};
  auto host = m[1].str();
  if (host.front() == '[')
    host = host.substr(1, host.size() - 2);
  return node_address{host, m[2].str()};
}

outcome<std::string> node_request(const node_address& node, const std::string& method, const std::string& target,
                                  const std::string& body, const std::string& token,
                                  std::chrono::seconds deadline, const std::string& missing_route) {
  const auto where = node.host + ":" + node.port;
  try {
    boost::asio::io_context io;
    tcp::resolver resolver{io};
    beast::tcp_stream stream{io};
    stream.expires_after(deadline);
    stream.connect(resolver.resolve(node.host, node.port));
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, node.host);
    if (!token.empty())
      req.set(http::field::authorization, "Bearer " + token);
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    if (res.result() == http::status::not_found)
      return operation_failure(where + " serves no " + target + ": " + missing_route);
    if (res.result() != http::status::ok)
      return operation_failure(where + " answered " + std::to_string(res.result_int()) + ": " + res.body());
    return res.body();
  } catch (const std::exception& e) {
    return operation_failure("cannot read " + where + target + ": " + e.what());
  }
}

} // namespace annal::cli
