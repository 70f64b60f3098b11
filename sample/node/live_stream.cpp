#include "shop/node/live_stream.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <mutex>

#include "shop/http/api_error.hpp"
#include "shop/http/unsigned_number.hpp"
#include "shop/node/render.hpp"

namespace shop::node {

namespace {

using position = annal::global_position;

// One client's stream. Pull-driven: the connection asks for the next piece only once the
// previous one is written, so a slow client holds one piece and falls behind in the
// journal (which it reads later, or skips with a marker), never in memory.
class live_source final : public stream_source, public std::enable_shared_from_this<live_source> {
public:
  live_source(live_feed& feed, const executor& ex, position from, live_feed::detail d,
              live_stream_options o)
    : feed_(feed), ex_(ex), options_(o), detail_(d), beat_(ex), gather_(ex), cursor_(from) {
    feed_.client_opened();
  }
  ~live_source() override { close(); }

  void next(std::function<void(std::string)> ready) override {
    {
      std::lock_guard<std::mutex> guard{mx_};
      if (closed_)
        return;
      pending_ = std::move(ready);
    }
    poll();
  }

  void close() override {
    std::lock_guard<std::mutex> guard{mx_};
    if (closed_)
      return;
    closed_ = true;
    pending_ = nullptr;
    feed_.cancel(ticket_);
    ticket_ = 0;
    beat_.cancel();
    gather_.cancel();
    feed_.client_closed();
  }

private:
  // Sends what is new, or waits for the feed (with a heartbeat).
  void poll() {
    std::function<void(std::string)> ready;
    std::string text;
    {
      std::lock_guard<std::mutex> guard{mx_};
      if (closed_ || !pending_)
        return;
      if (failed_) {
        ready = std::move(pending_); // ends the stream: the client reconnects and resumes
      } else {
        auto p = feed_.read_after(cursor_, options_.piece_events, detail_);
        if (!p) {
          failed_ = true;
          ready = std::move(pending_);
          text = "event: error\ndata: " + nlohmann::json{{"error", p.error().to_string()}}.dump() + "\n\n";
        } else if (!p->text.empty()) {
          cursor_ = p->through;
          ready = std::move(pending_);
          text = std::move(p->text);
        } else {
          wait_locked();
        }
      }
    }
    if (ready)
      ready(std::move(text));
  }

  void wait_locked() {
    std::weak_ptr<live_source> weak = shared_from_this();
    auto ex = ex_;
    ticket_ = feed_.notify_after(cursor_, [weak, ex] {
      boost::asio::post(ex, [weak] {
        if (auto self = weak.lock())
          self->woken();
      });
    });
    beat_.expires_after(options_.heartbeat);
    beat_.async_wait([weak](const boost::system::error_code& ec) {
      if (auto self = weak.lock(); self && !ec)
        self->beat();
    });
  }

  // Something is new: gather a little more, then send it.
  void woken() {
    {
      std::lock_guard<std::mutex> guard{mx_};
      if (closed_)
        return;
      ticket_ = 0;
      beat_.cancel();
    }
    std::weak_ptr<live_source> weak = shared_from_this();
    gather_.expires_after(options_.gather);
    gather_.async_wait([weak](const boost::system::error_code& ec) {
      if (auto self = weak.lock(); self && !ec)
        self->poll();
    });
  }

  void beat() {
    std::function<void(std::string)> ready;
    {
      std::lock_guard<std::mutex> guard{mx_};
      if (closed_ || !pending_ || ticket_ == 0)
        return;
      feed_.cancel(ticket_);
      ticket_ = 0;
      ready = std::move(pending_);
    }
    ready(": keep-alive\n\n");
  }

  live_feed& feed_;
  executor ex_;
  live_stream_options options_;
  live_feed::detail detail_;
  boost::asio::steady_timer beat_;
  boost::asio::steady_timer gather_;
  std::mutex mx_;
  position cursor_;
  std::function<void(std::string)> pending_;
  uint64_t ticket_ = 0;
  bool closed_ = false;
  bool failed_ = false;
};

} // namespace

stream_route live_events_route(live_feed& feed, live_stream_options options) {
  return [&feed, options](const http::request_view& req, const executor& ex) -> std::optional<stream_reply> {
    if (req.path != "/events/live" || req.method != "GET")
      return std::nullopt; // the API's 404
    std::optional<position> from;
    if (auto id = req.header("Last-Event-ID")) {
      from = http::parse_unsigned(*id);
      if (!from)
        return shop_service::error_response(http::bad_request("Last-Event-ID must be a position (a decimal number)"));
    } else if (auto p = req.param("from")) {
      from = http::parse_unsigned(*p);
      if (!from)
        return shop_service::error_response(http::bad_request("from must be a position (a decimal number)"));
    }
    if (!from) {
      uint64_t tail = 50;
      if (auto t = req.param("tail")) {
        auto n = http::parse_unsigned(*t);
        if (!n || *n > 1000)
          return shop_service::error_response(http::bad_request("tail must be 0..1000"));
        tail = *n;
      }
      auto head = feed.journal_head();
      if (!head)
        return shop_service::error_response(to_api_error(head.error()));
      from = *head > tail ? *head - tail : 0;
    }
    auto d = live_feed::detail::summary;
    if (auto p = req.param("payload")) {
      if (*p != "0" && *p != "1")
        return shop_service::error_response(http::bad_request("payload must be 0 or 1"));
      if (*p == "1")
        d = live_feed::detail::full;
    }
    auto source = std::make_shared<live_source>(feed, ex, *from, d, options);
    return stream_answer{"text/event-stream", std::move(source)};
  };
}

} // namespace shop::node
