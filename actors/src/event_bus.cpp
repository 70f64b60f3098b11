#include "annal/event_bus.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <unordered_map>
#include <vector>

#include "annal/detail/atoms.hpp"
#include "annal/detail/messages.hpp"

namespace annal {

namespace {

using clock = std::chrono::steady_clock;

struct subscriber {
  caf::actor who;
  event_filter filter;
  bool live = false;
  // While live with a pace: what waits for the next delivery (batches, then a position
  // without matching events past them), and when the last delivery went.
  std::chrono::milliseconds pace{0};
  detail::committed_batches held;
  global_position held_progress = 0;
  clock::time_point last_sent{};
  bool delivery_due = false;
  // While catching up: batches committed since the subscription began (bounded).
  std::vector<detail::committed_events> buffer;
  std::size_t buffered = 0;
  bool overflowed = false;
  // While live: batches sent and not acknowledged yet, as (last position, events).
  std::deque<std::pair<global_position, std::size_t>> in_flight;
  std::size_t unacked = 0;
};

struct bus_state {
  event_bus_options options;
  global_position last_published = 0;
  std::unordered_map<caf::actor_addr, subscriber> subscribers;
  static inline const char* name = "annal.event_bus";
};

using bus_actor = caf::stateful_actor<bus_state>;

bool any_match(const subscriber& s, const std::vector<recorded_event>& events) {
  if (s.filter.is_all())
    return true;
  for (const auto& e : events)
    if (s.filter.matches(e.stream_id, e.type))
      return true;
  return false;
}

// Sends what a paced subscriber holds in one message: its batches in order and the
// position it may advance to (past them when later batches had no matching event).
void send_held(bus_actor* self, subscriber& s) {
  if (!s.held.empty()) {
    auto through = std::max(s.held_progress, s.held.back()->back().position);
    self->send(s.who, detail::committed_atom::value, std::move(s.held), through);
  } else if (s.held_progress > 0) {
    self->send(s.who, detail::progress_atom::value, s.held_progress);
  }
  s.held.clear();
  s.held_progress = 0;
  s.delivery_due = false;
  s.last_sent = clock::now();
}

// A paced subscriber's delivery: at once after a quiet spell, else one pace after the last.
void pace_delivery(bus_actor* self, subscriber& s) {
  if (s.delivery_due)
    return;
  auto due = s.last_sent + s.pace;
  auto now = clock::now();
  if (now >= due)
    return send_held(self, s);
  s.delivery_due = true;
  self->delayed_send(self, due - now, detail::pace_atom::value, s.who.address());
}

void deliver(bus_actor* self, subscriber& s, const detail::committed_events& batch) {
  auto last = batch->back().position;
  bool matching = any_match(s, *batch);
  if (matching) {
    s.in_flight.emplace_back(last, batch->size());
    s.unacked += batch->size();
  }
  if (s.pace.count() > 0) {
    if (matching)
      s.held.push_back(batch);
    else
      s.held_progress = last;
    return pace_delivery(self, s);
  }
  if (matching)
    self->send(s.who, detail::committed_atom::value, batch);
  else
    self->send(s.who, detail::progress_atom::value, last);
}

void publish(bus_actor* self, const detail::committed_events& batch) {
  auto& st = self->state;
  if (batch->empty())
    return;
  st.last_published = batch->back().position;
  std::vector<caf::actor_addr> behind;
  for (auto& [addr, s] : st.subscribers) {
    if (!s.live) {
      if (s.overflowed)
        continue;
      s.buffered += batch->size();
      if (s.buffered > st.options.max_buffered_events) {
        s.overflowed = true; // it will read these from the journal instead
        s.buffer.clear();
        s.buffered = 0;
      } else {
        s.buffer.push_back(batch);
      }
      continue;
    }
    deliver(self, s, batch);
    if (s.unacked > st.options.max_unacked_events)
      behind.push_back(addr);
  }
  for (auto& addr : behind) {
    auto i = st.subscribers.find(addr);
    self->send(i->second.who, detail::behind_atom::value);
    st.subscribers.erase(i);
  }
}

caf::behavior event_bus(bus_actor* self, event_bus_options options) {
  self->state.options = options;
  self->set_down_handler([=](caf::down_msg& dm) { self->state.subscribers.erase(dm.source); });
  return {
    [=](detail::subscribe_atom, caf::actor who, event_filter& filter, uint32_t pace_ms) {
      auto& st = self->state;
      self->monitor(who);
      auto addr = who.address();
      subscriber s;
      s.who = std::move(who);
      s.filter = std::move(filter);
      s.pace = std::chrono::milliseconds{pace_ms};
      st.subscribers.insert_or_assign(addr, std::move(s));
      return st.last_published;
    },
    [=](detail::go_live_atom, global_position position) -> caf::result<bool, global_position> {
      auto& st = self->state;
      auto i = st.subscribers.find(caf::actor_cast<caf::actor_addr>(self->current_sender()));
      if (i == st.subscribers.end())
        return caf::sec::invalid_argument;
      auto& s = i->second;
      if (s.overflowed) {
        s.overflowed = false;
        return {false, st.last_published};
      }
      // The reply must reach the subscriber before the buffered batches: it drops live
      // batches until it knows it is live (messages between two actors keep their order).
      auto rp = self->make_response_promise<bool, global_position>();
      rp.deliver(true, st.last_published);
      s.live = true;
      for (auto& batch : s.buffer)
        if (batch->back().position > position)
          deliver(self, s, batch);
      s.buffer.clear();
      s.buffered = 0;
      return rp;
    },
    [=](detail::ack_atom, global_position position) {
      auto& st = self->state;
      auto i = st.subscribers.find(caf::actor_cast<caf::actor_addr>(self->current_sender()));
      if (i == st.subscribers.end())
        return;
      auto& s = i->second;
      while (!s.in_flight.empty() && s.in_flight.front().first <= position) {
        s.unacked -= s.in_flight.front().second;
        s.in_flight.pop_front();
      }
    },
    [=](detail::pace_atom, const caf::actor_addr& addr) {
      auto i = self->state.subscribers.find(addr);
      if (i != self->state.subscribers.end() && i->second.delivery_due)
        send_held(self, i->second);
    },
    [=](detail::unsub_atom, const caf::actor& who) { self->state.subscribers.erase(who.address()); },
    [=](detail::committed_atom, const detail::committed_events& batch) { publish(self, batch); },
    [=](detail::stats_atom) { return self->state.last_published; },
  };
}

} // namespace

caf::actor spawn_event_bus(caf::actor_system& sys, event_bus_options options) {
  return sys.spawn(event_bus, options);
}

} // namespace annal
