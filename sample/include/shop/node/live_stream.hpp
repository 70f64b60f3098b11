// GET /events/live: the newest committed events as server-sent events, fed by live_feed.
// Resumes after the position in the `Last-Event-ID` header or the `from` query parameter
// (none: the last `tail` events, 50 by default), with no gap. Every frame's id is the
// event's global position; its data is the event's envelope (position, stream, version,
// type, timestamp), or with `payload=1` the whole event as the audit trail shows it. A
// comment line keeps an idle connection alive.
#pragma once

#include <chrono>

#include "shop/node/http_stream.hpp"
#include "shop/node/live_feed.hpp"

namespace shop::node {

struct live_stream_options {
  /// A comment is sent after this long without an event (proxies and clients see life).
  std::chrono::milliseconds heartbeat{15000};
  /// After an event arrives, wait this long for more, to send them in one piece.
  std::chrono::milliseconds gather{25};
  /// Events per piece at most.
  std::size_t piece_events = 512;
};

/// The route of GET /events/live. `feed` outlives the server.
stream_route live_events_route(live_feed& feed, live_stream_options options = {});

} // namespace shop::node
