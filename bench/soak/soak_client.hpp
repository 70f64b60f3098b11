// A bounded HTTP client for the soak: Boost.Beast underneath (blocking, keep-alive,
// loopback only), every request limited by read and write timeouts so that a node that stops
// answering is seen as a hang instead of blocking the driver. One client per thread.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace annal::soak {

/// An HTTP answer: status (0 when the request failed at the transport: refused, reset or
/// timed out) and the body as JSON (null when it is not JSON).
struct reply {
  int status = 0;
  nlohmann::json json;
  std::string text;

  bool ok() const noexcept { return status >= 200 && status < 300; }
  /// The error code of an error body ("" otherwise).
  std::string error() const;
};

class soak_client {
public:
  /// A client of 127.0.0.1:`port`; every request gives up after `timeout`.
  soak_client(int port, std::chrono::seconds timeout);
  ~soak_client();
  soak_client(soak_client&&) noexcept;
  soak_client& operator=(soak_client&&) noexcept;

  reply get(const std::string& path);
  reply post(const std::string& path, const nlohmann::json& body);

private:
  struct connection;
  bool connect();
  reply request(bool post, const std::string& path, const std::string& body);

  int port_ = 0;
  std::chrono::seconds timeout_;
  std::unique_ptr<connection> conn_;
};

} // namespace annal::soak
