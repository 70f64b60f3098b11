// The newest committed events, for the page's live list (server-sent events). An
// in-memory projection over every event (an event-bus subscription through the runtime's
// public API) keeps the last `ring_events` of them while a client listens. A client reads
// "the events after position p": from this ring when p is inside it, else from the
// journal, so that a client resuming from the last position it saw misses none. Memory is
// bounded: the ring, and one piece per client; a client further behind than
// `max_backlog` events skips ahead to the ring with a marker instead of reading it all.
//
// Thread safety: every member is safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "annal/runtime.hpp"

namespace shop::node {

class live_feed {
public:
  struct options {
    /// Newest events kept while a client listens.
    std::size_t ring_events = 8192;
    /// A client this many events behind the newest skips ahead (with a marker).
    uint64_t max_backlog = 100000;
  };

  /// Name of the projection that feeds it.
  static constexpr const char* projection_name = "live_feed";

  /// `rt` must outlive the feed.
  explicit live_feed(annal::runtime& rt);
  live_feed(annal::runtime& rt, options o);
  live_feed(const live_feed&) = delete;
  live_feed& operator=(const live_feed&) = delete;

  /// Registers the projection that feeds it, starting after the journal's newest event.
  /// Call before rt.start(). Errors: those of add_projection and of the journal read.
  annal::status attach();

  /// What a frame carries: the envelope (position, stream, version, type, timestamp:
  /// what a live list shows; cheap to render), or everything the audit trail shows
  /// (metadata and the payload decoded to JSON).
  enum class detail { summary, full };

  /// A piece of a client's stream: SSE frames for the events after a position.
  struct piece {
    /// The frames ("id: <position>\ndata: <event JSON>\n\n" per event, or one marker
    /// frame: "event: skipped" with the range passed over, "event: reset" when the
    /// position is beyond the journal's end); empty when nothing is new.
    std::string text;
    /// The position the client has seen once it got `text`.
    annal::global_position through = 0;
    std::size_t events = 0;
  };

  /// The frames of up to `max_events` events after `after`. Errors: journal reads.
  annal::result<piece> read_after(annal::global_position after, std::size_t max_events,
                                  detail d = detail::summary);

  /// The journal's newest position. Errors: io_error.
  annal::result<annal::global_position> journal_head();

  /// Calls `fn` once (on the projection's thread, or here) when an event after `after`
  /// is published; keep it short. Returns a ticket for cancel().
  uint64_t notify_after(annal::global_position after, std::function<void()> fn);
  /// Forgets a notification that has not run yet.
  void cancel(uint64_t ticket);

  /// Counts listening clients: while none listens, the ring is not kept (a client that
  /// comes reads the journal up to the ring).
  void client_opened();
  void client_closed();

  /// Adds one committed event (the projection's handler).
  void publish(const annal::event_view& e);

  /// How many times a client was too far behind and skipped ahead.
  uint64_t skips() const;

private:
  struct entry;

  annal::runtime& rt_;
  options options_;
  mutable std::mutex mx_;
  std::deque<std::shared_ptr<entry>> ring_;
  /// Every event after floor_ is in the ring (those up to it are in the journal).
  annal::global_position floor_ = 0;
  annal::global_position newest_ = 0;
  std::size_t clients_ = 0;
  uint64_t next_ticket_ = 1;
  std::map<uint64_t, std::pair<annal::global_position, std::function<void()>>> waiters_;
  uint64_t skips_ = 0;
};

} // namespace shop::node
