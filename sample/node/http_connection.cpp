// One HTTP/1.1 connection: wait for a request (idle deadline), read its headers (header
// deadline) and body (body deadline), run it, write the answer (write deadline), and
// again while the client keeps the connection alive. Everything runs on the connection's
// event loop (one thread); a request that waits (a command, min_position) holds no thread
// meanwhile.
#include <boost/asio/dispatch.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <optional>

#include "annal/log.hpp"
#include "http_core.hpp"
#include "shop/http/request_parser.hpp"
#include "shop/http/request_target.hpp"

namespace shop::node {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

/// Longest request line plus headers accepted.
constexpr std::uint32_t max_header_bytes = 16 * 1024;
/// A connection closed after an error answer: read what the client still sends for at
/// most this long (and this much), so that closing does not reset the answer away.
constexpr auto linger_time = std::chrono::seconds(2);
constexpr std::size_t linger_bytes = 4 * 1024 * 1024;

std::string_view sv(boost::string_view s) noexcept {
  return {s.data(), s.size()};
}

// Constant-time comparison: the token must not leak through response timing.
bool same_secret(std::string_view a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  return diff == 0 && !b.empty();
}

// The answer to a request the parser refused before it was complete; none: just close.
std::optional<http::api_error> read_error(const error_code& ec) {
  if (ec == bhttp::error::body_limit)
    return http::payload_too_large();
  if (ec == bhttp::error::header_limit)
    return http::api_error{431, "bad_request", "the request headers are too large"};
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message)
    return std::nullopt;
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category())
    return http::bad_request("malformed HTTP request: " + ec.message());
  return std::nullopt; // timeout, reset, end of stream: nobody to answer
}

class connection : public std::enable_shared_from_this<connection> {
public:
  /// `refusal`: counted among the connections being refused, not the served ones.
  connection(http_server::core& core, loop_socket socket, bool refusal)
    : core_(core), stream_(std::move(socket)), refusal_(refusal) {
    (refusal_ ? core_.refusing : core_.open).fetch_add(1);
  }
  ~connection() {
    if (source_)
      source_->close();
    (refusal_ ? core_.refusing : core_.open).fetch_sub(1);
  }

  void start() { next_request(); }

  /// Answers 503 at once and closes (the connection cap).
  void refuse() {
    auto e = http::unavailable("too many connections, retry later");
    respond(shop_service::error_response(e), false);
  }

private:
  void next_request() {
    if (core_.stopping)
      return close();
    parser_.emplace();
    parser_->body_limit(http::max_body_bytes);
    parser_->header_limit(max_header_bytes);
    if (buffer_.size() > 0)
      return read_header();
    // Idle until the next request's first byte: no thread, only its deadline.
    stream_.expires_after(core_.options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](error_code ec, std::size_t n) {
      if (ec)
        return self->close();
      self->buffer_.commit(n);
      self->read_header();
    });
  }

  void read_header() {
    stream_.expires_after(core_.options.header_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec)
        return self->failed(ec);
      self->read_body();
    });
  }

  void read_body() {
    if (parser_->is_done())
      return run();
    stream_.expires_after(core_.options.body_timeout);
    auto expect = parser_->get()[bhttp::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      // The client (curl, for bodies over 1 KiB) waits for this before sending the body.
      static const char interim[] = "HTTP/1.1 100 Continue\r\n\r\n";
      boost::asio::async_write(stream_, boost::asio::buffer(interim, sizeof interim - 1),
                               [self = shared_from_this()](error_code ec, std::size_t) {
                                 if (ec)
                                   return self->close();
                                 self->read_body_now();
                               });
      return;
    }
    read_body_now();
  }

  void read_body_now() {
    bhttp::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec)
        return self->failed(ec);
      self->run();
    });
  }

  void failed(const error_code& ec) {
    auto answer = read_error(ec);
    if (!answer)
      return close();
    respond(shop_service::error_response(*answer), false);
  }

  void run() {
    stream_.expires_never(); // the handler's own deadlines bound the wait
    core_.in_flight.fetch_add(1);
    counted_ = true;
    auto& req = parser_->get();
    head_ = req.method() == bhttp::verb::head;
    keep_alive_ = req.keep_alive();
    method_ = head_ ? std::string{"GET"} : std::string{sv(req.method_string())};
    target_ = http::decode_target(sv(req.target()));
    http::request_view view;
    view.method = method_;
    view.path = target_.path;
    view.query.reserve(target_.query.size());
    for (const auto& [k, v] : target_.query)
      view.query.emplace_back(k, v);
    for (const auto& field : req)
      view.headers.emplace_back(sv(field.name_string()), sv(field.value()));
    view.body = req.body();

    auto self = shared_from_this();
    auto ex = stream_.get_executor();
    // Answers may come from another thread: continue on this connection's loop.
    responder done = [self, ex](http_response r) {
      boost::asio::dispatch(ex, [self, r = std::move(r)]() mutable { self->answer(std::move(r)); });
    };
    try {
      // Files without data (the page): a browser loads them before it knows the token.
      if (!core_.draining)
        for (const auto& route : core_.public_routes)
          if (route(view, done))
            return;
      const auto& token = core_.options.token;
      if (!token.empty()) {
        auto given = view.header("Authorization");
        if (!same_secret(given.value_or(std::string_view{}), "Bearer " + token))
          return answer(shop_service::error_response(http::unauthorized()));
      }
      if (core_.draining)
        return answer(shop_service::error_response(http::unavailable("the node is shutting down")));
      for (const auto& route : core_.stream_routes)
        if (auto reply = route(view, ex)) {
          if (auto* plain = std::get_if<http_response>(&*reply))
            return answer(std::move(*plain));
          return start_stream(std::move(std::get<stream_answer>(*reply)));
        }
      for (const auto& route : core_.routes)
        if (route(view, done))
          return;
      auto parsed = http::parse_request(view);
      if (auto* err = std::get_if<http::api_error>(&parsed))
        return answer(shop_service::error_response(*err));
      core_.service.handle(std::get<http::api_request>(parsed), ex, std::move(done));
    } catch (const std::exception& e) { // a bug: answer, log, and keep serving
      annal::log(annal::log_level::error, std::string{"handler threw: "} + e.what());
      answer(shop_service::error_response({500, "internal", "unexpected exception"}));
    }
  }

  /// The answer to the request read last.
  void answer(http_response r) {
    if (r.status >= 500)
      annal::log(annal::log_level::warning, method_ + " " + target_.path + " -> "
                                              + std::to_string(r.status) + " " + r.body);
    respond(std::move(r), keep_alive_ && !core_.draining);
  }

  // The head is written by hand into one reusable string and sent with the body in one
  // gathered write: Beast's response object allocated a node per header field and walked
  // a serializer per answer, for the same few fields every time.
  void respond(http_response r, bool keep_alive) {
    core_.metrics.response_sent(r.status);
    answer_head_.clear();
    answer_head_.append("HTTP/1.1 ").append(std::to_string(r.status)).append(" ");
    auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(r.status));
    answer_head_.append(reason.data(), reason.size());
    answer_head_.append("\r\nContent-Type: ").append(r.content_type);
    // HEAD: the length GET would send, and no body.
    answer_head_.append("\r\nContent-Length: ").append(std::to_string(r.body.size()));
    if (r.replayed)
      answer_head_.append("\r\nIdempotent-Replayed: true");
    if (r.status == 503)
      answer_head_.append("\r\nRetry-After: 1");
    if (!keep_alive)
      answer_head_.append("\r\nConnection: close");
    answer_head_.append("\r\n\r\n");
    answer_body_ = head_ ? std::string{} : std::move(r.body);
    keep_alive_ = keep_alive;
    stream_.expires_after(core_.options.write_timeout);
    std::array<boost::asio::const_buffer, 2> parts{boost::asio::buffer(answer_head_), boost::asio::buffer(answer_body_)};
    boost::asio::async_write(stream_, parts, [self = shared_from_this()](error_code ec, std::size_t) {
      self->written(ec);
    });
  }

  void written(const error_code& ec) {
    if (counted_) {
      counted_ = false;
      core_.in_flight.fetch_sub(1);
    }
    head_ = false;
    if (ec)
      return close();
    if (!keep_alive_)
      return linger();
    next_request();
  }

  // -- streaming responses (server-sent events) -------------------------------------------
  // The head goes out first; then each piece the source hands over is written before the
  // next is asked for, so a connection holds at most one piece. A write that misses the
  // write deadline (a client that stopped reading) drops the connection. Meanwhile a read
  // on the socket notices when the client leaves.

  void start_stream(stream_answer s) {
    core_.metrics.response_sent(200);
    source_ = std::move(s.source);
    piece_ = "HTTP/1.1 200 OK\r\nContent-Type: " + s.content_type
             + "\r\nCache-Control: no-store\r\nX-Accel-Buffering: no\r\nConnection: close\r\n\r\n";
    stream_.expires_after(core_.options.write_timeout);
    boost::asio::async_write(stream_, boost::asio::buffer(piece_),
                             [self = shared_from_this()](error_code ec, std::size_t) {
                               // A stream is not a request in flight: drains do not wait for it.
                               if (self->counted_) {
                                 self->counted_ = false;
                                 self->core_.in_flight.fetch_sub(1);
                               }
                               if (ec)
                                 return self->end_stream();
                               self->watch_client();
                               self->next_piece();
                             });
  }

  void watch_client() {
    // On the socket itself: the stream's deadlines are for the writes.
    stream_.socket().async_read_some(boost::asio::buffer(watch_buffer_),
                                     [self = shared_from_this()](error_code ec, std::size_t) {
                                       if (ec)
                                         return self->end_stream();
                                       self->watch_client(); // a client has nothing to say: drop it
                                     });
  }

  void next_piece() {
    if (!source_)
      return;
    stream_.expires_never();
    std::weak_ptr<connection> weak = shared_from_this();
    auto ex = stream_.get_executor();
    source_->next([weak, ex](std::string piece) {
      if (auto self = weak.lock())
        boost::asio::dispatch(ex, [self, piece = std::move(piece)]() mutable {
          self->write_piece(std::move(piece));
        });
    });
  }

  void write_piece(std::string piece) {
    if (!source_)
      return;
    if (piece.empty() || core_.stopping)
      return end_stream();
    piece_ = std::move(piece);
    stream_.expires_after(core_.options.write_timeout);
    boost::asio::async_write(stream_, boost::asio::buffer(piece_),
                             [self = shared_from_this()](error_code ec, std::size_t) {
                               if (ec)
                                 return self->end_stream();
                               self->next_piece();
                             });
  }

  void end_stream() {
    if (auto s = std::move(source_))
      s->close();
    close();
  }

  /// Closes after an answer: stops sending, then reads (and drops) what the client still
  /// sends until it closes too, for a short while, so that the answer is not reset away.
  void linger() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(linger_time);
    drain_read();
  }

  void drain_read() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(64 * 1024), [self = shared_from_this()](error_code ec, std::size_t n) {
      self->lingered_ += n;
      if (ec || self->lingered_ > linger_bytes)
        return self->close();
      self->drain_read();
    });
  }

  void close() {
    error_code ignored;
    stream_.socket().close(ignored);
  }

  http_server::core& core_;
  beast::basic_stream<tcp, boost::asio::io_context::executor_type> stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  /// The answer being written: its head and its body.
  std::string answer_head_;
  std::string answer_body_;
  std::string method_;
  http::request_target target_;
  bool head_ = false;
  bool keep_alive_ = true;
  bool counted_ = false;
  std::size_t lingered_ = 0;
  bool refusal_;
  /// While streaming: the body's source, the piece being written, the client watch's buffer.
  std::shared_ptr<stream_source> source_;
  std::string piece_;
  std::array<char, 512> watch_buffer_{};
};

} // namespace

void serve_connection(http_server::core& core, loop_socket socket) {
  std::make_shared<connection>(core, std::move(socket), false)->start();
}

void refuse_connection(http_server::core& core, loop_socket socket) {
  std::make_shared<connection>(core, std::move(socket), true)->refuse();
}

} // namespace shop::node
