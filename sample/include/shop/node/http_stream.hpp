// Responses whose body is produced over time (server-sent events), for
// http_server::add_stream_route. A streaming response is sent as HTTP/1.1 200 with
// `Connection: close` and no length: the body ends when the connection does.
//
// Thread safety: a stream_source is driven from its connection's event loop; its `ready`
// callback may be called from any thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "shop/http/request_view.hpp"
#include "shop/node/shop_service.hpp"

namespace shop::node {

/// The body of a streaming response, piece by piece.
class stream_source {
public:
  virtual ~stream_source() = default;

  /// Asks for the next piece; `ready` runs once, on any thread, when it is at hand (an
  /// empty piece ends the response). Called again only after the previous piece was sent.
  virtual void next(std::function<void(std::string)> ready) = 0;

  /// The client left or the server stops: drop the pending `ready`, wait for nothing more.
  virtual void close() = 0;
};

/// A streaming answer: its media type and its body.
struct stream_answer {
  std::string content_type;
  std::shared_ptr<stream_source> source;
};

/// What a streaming route answers: a plain response (an error) or a stream.
using stream_reply = std::variant<http_response, stream_answer>;

/// A route consulted before the API's (after the token check): none to leave the request
/// to the other routes. `ex` is the connection's event loop, for the source's timers.
using stream_route =
  std::function<std::optional<stream_reply>(const http::request_view& request, const executor& ex)>;

} // namespace shop::node
