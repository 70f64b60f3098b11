#include "shop/node/live_feed.hpp"

#include <algorithm>
#include <vector>

#include "shop/node/render.hpp"

namespace shop::node {

namespace {

// The model of the feeding projection: the feed itself holds everything.
struct no_model {};

std::string frame(const annal::recorded_event& e, const annal::event_registry& reg,
                  live_feed::detail d) {
  nlohmann::json body;
  if (d == live_feed::detail::full)
    body = to_json(e, reg);
  else
    body = {{"position", e.position},
            {"stream", e.stream_id},
            {"version", e.version},
            {"type", e.type},
            {"timestamp", rfc3339(e.timestamp)}};
  auto json = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return "id: " + std::to_string(e.position) + "\ndata: " + json + "\n\n";
}

std::string marker(const char* event, annal::global_position id, const nlohmann::json& data) {
  return "id: " + std::to_string(id) + "\nevent: " + event + "\ndata: " + data.dump() + "\n\n";
}

} // namespace

// One kept event; each of its frames is rendered once, by the first client that sends it
// (while nobody listens, nothing is rendered).
struct live_feed::entry {
  annal::recorded_event event;
  std::once_flag rendered[2];
  std::string text[2];
};

live_feed::live_feed(annal::runtime& rt) : live_feed(rt, options{}) {}

live_feed::live_feed(annal::runtime& rt, options o) : rt_(rt), options_(o) {}

annal::status live_feed::attach() {
  auto head = rt_.store().last_position();
  if (!head)
    return std::move(head).error();
  annal::memory_projection<no_model> spec;
  spec.options.name = projection_name;
  spec.options.filter = annal::event_filter::all();
  spec.apply = [this](no_model&, const annal::event_view& e) -> annal::status {
    publish(e);
    return {};
  };
  auto sink = rt_.add_projection(std::move(spec));
  if (!sink)
    return std::move(sink).error();
  // Nothing is written before start(): the projection begins exactly after `head`, and
  // everything up to it is in the journal.
  if (auto ok = (*sink)->store_position(*head); !ok)
    return ok;
  std::lock_guard<std::mutex> guard{mx_};
  floor_ = newest_ = *head;
  return {};
}

void live_feed::publish(const annal::event_view& e) {
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard<std::mutex> guard{mx_};
    newest_ = e.position;
    if (clients_ == 0) {
      ring_.clear();
      floor_ = e.position;
    } else {
      auto item = std::make_shared<entry>();
      item->event = e.to_owned();
      ring_.push_back(std::move(item));
      while (ring_.size() > options_.ring_events) {
        floor_ = ring_.front()->event.position;
        ring_.pop_front();
      }
    }
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->second.first < e.position) {
        wake.push_back(std::move(it->second.second));
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& fn : wake)
    fn();
}

annal::result<live_feed::piece> live_feed::read_after(annal::global_position after,
                                                      std::size_t max_events, detail d) {
  piece out;
  out.through = after;
  std::vector<std::shared_ptr<entry>> taken;
  annal::global_position floor = 0;
  annal::global_position newest = 0;
  {
    std::lock_guard<std::mutex> guard{mx_};
    floor = floor_;
    newest = newest_;
    if (after >= floor_) {
      auto first = std::upper_bound(ring_.begin(), ring_.end(), after,
                                    [](annal::global_position p, const std::shared_ptr<entry>& x) {
                                      return p < x->event.position;
                                    });
      for (auto it = first; it != ring_.end() && taken.size() < max_events; ++it)
        taken.push_back(*it);
    }
  }
  const auto& reg = rt_.registry();
  if (after > newest) {
    // Nothing published after it yet; a position this journal never had (it was
    // replaced) would wait forever: the client starts again from the journal's end.
    auto head = rt_.store().last_position();
    if (!head)
      return std::move(head).error();
    if (after > *head) {
      out.text = marker("reset", *head, {{"from", after}, {"position", *head}});
      out.through = *head;
    }
    return out;
  }
  if (after >= floor) {
    for (const auto& x : taken) {
      auto k = static_cast<std::size_t>(d);
      std::call_once(x->rendered[k], [&] { x->text[k] = frame(x->event, reg, d); });
      out.text += x->text[k];
      out.through = x->event.position;
    }
    out.events = taken.size();
    return out;
  }
  // Older than the ring: from the journal, unless the client is too far behind.
  if (newest - after > options_.max_backlog) {
    out.text = marker("skipped", floor, {{"from", after + 1}, {"to", floor}});
    out.through = floor;
    std::lock_guard<std::mutex> guard{mx_};
    ++skips_;
    return out;
  }
  auto events = rt_.store().read_all(after, max_events);
  if (!events)
    return std::move(events).error();
  for (const auto& e : *events) {
    out.text += frame(e, reg, d);
    out.through = e.position;
  }
  out.events = events->size();
  return out;
}

annal::result<annal::global_position> live_feed::journal_head() {
  return rt_.store().last_position();
}

uint64_t live_feed::notify_after(annal::global_position after, std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> guard{mx_};
    if (newest_ <= after) {
      auto ticket = next_ticket_++;
      waiters_.emplace(ticket, std::make_pair(after, std::move(fn)));
      return ticket;
    }
  }
  fn();
  return 0;
}

void live_feed::cancel(uint64_t ticket) {
  std::lock_guard<std::mutex> guard{mx_};
  waiters_.erase(ticket);
}

void live_feed::client_opened() {
  std::lock_guard<std::mutex> guard{mx_};
  ++clients_;
}

void live_feed::client_closed() {
  std::lock_guard<std::mutex> guard{mx_};
  if (clients_ > 0)
    --clients_;
}

uint64_t live_feed::skips() const {
  std::lock_guard<std::mutex> guard{mx_};
  return skips_;
}

} // namespace shop::node
