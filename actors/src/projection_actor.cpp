#include "annal/projection_actor.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>

#include "annal/caf_error.hpp"
#include "annal/detail/atoms.hpp"
#include "annal/detail/messages.hpp"
#include "annal/detail/service_spawn.hpp"
#include "annal/detail/subscription.hpp"
#include "annal/event_store.hpp"
#include "annal/log.hpp"

namespace annal {

namespace {

struct projection_state_data {
  event_store* store = nullptr;
  std::shared_ptr<projection_sink> sink;
  projection_options options;
  std::shared_ptr<projection_monitor> monitor;
  std::unique_ptr<detail::subscription> sub;
  std::set<global_position> skip; // parked events, passed over on replays
  unsigned attempts = 0;
  global_position failed_at = 0;
  bool faulted = false;
  bool rebuilding = false;
  uint64_t rebuild_total = 0;
  // The poll asked for by the sink's next_wakeup(), once sent.
  std::optional<std::chrono::steady_clock::time_point> wakeup_at;
  static inline const char* name = "annal.projection";
};

using projection_actor = caf::stateful_actor<projection_state_data>;

// Where to resume: the stored position, or for a start_position::end projection that
// never stored one, the end of the log (stored at once). A rebuild replays from 0.
result<global_position> resume_position(projection_state_data& st) {
  auto stored = st.sink->stored_position();
  if (!stored)
    return std::move(stored).error();
  if (*stored || st.options.start == start_position::beginning || st.rebuilding)
    return stored->value_or(0);
  auto end = st.store->last_position();
  if (!end)
    return std::move(end).error();
  if (auto ok = st.sink->store_position(*end); !ok)
    return std::move(ok).error();
  return *end;
}

// Asks for a poll at the sink's next wake-up, unless one at that time or sooner is asked for.
void schedule_wakeup(projection_actor* self) {
  auto& st = self->state;
  auto at = st.sink->next_wakeup();
  if (!at || (st.wakeup_at && *st.wakeup_at <= *at))
    return;
  st.wakeup_at = *at;
  auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(*at - std::chrono::steady_clock::now());
  self->delayed_send(self, std::max(delay, std::chrono::milliseconds(0)) + std::chrono::milliseconds(1),
                     detail::wakeup_atom::value);
}

void resume(projection_actor* self) {
  auto& st = self->state;
  st.sink->restart();
  // Events parked earlier (by policy or by an operator) stay skipped after a restart.
  if (auto parked = st.sink->parked_positions())
    st.skip.insert(parked->begin(), parked->end());
  auto from = resume_position(st);
  if (!from) {
    st.faulted = true;
    st.monitor->set_fault(0, from.error().to_string());
    return;
  }
  st.faulted = false;
  st.monitor->advance(*from);
  st.sub->start(*from);
  schedule_wakeup(self); // work the sink has without new events (say, held-back ones)
}

status apply(projection_actor* self, const std::vector<event_view>& events, global_position through) {
  auto& st = self->state;
  const std::vector<event_view>* batch = &events;
  std::vector<event_view> kept;
  if (!st.skip.empty()) {
    for (const auto& e : events)
      if (st.skip.count(e.position) == 0)
        kept.push_back(e);
    batch = &kept;
  }
  global_position failed_at = 0;
  if (auto ok = st.sink->apply(*batch, through, failed_at); !ok) {
    st.failed_at = failed_at;
    return ok;
  }
  if (through >= st.failed_at)
    st.attempts = 0;
  st.monitor->advance(st.sink->settled().value_or(through));
  schedule_wakeup(self);
  if (st.rebuilding)
    st.monitor->set_rebuild_progress(std::min(through, st.rebuild_total), st.rebuild_total);
  return {};
}

void on_failure(projection_actor* self, const error& err) {
  auto& st = self->state;
  auto& o = st.options;
  if (st.attempts < o.max_retries) {
    // Doubling backoff, capped so that a recovered cause is noticed within seconds.
    auto delay = std::min<std::chrono::milliseconds>(o.backoff * (1u << std::min(st.attempts, 10u)),
                                                     std::chrono::seconds(5));
    ++st.attempts;
    st.monitor->set_retrying(st.failed_at, err.to_string());
    self->delayed_send(self, delay, detail::retry_atom::value);
    return;
  }
  st.attempts = 0;
  if (o.on_failure == failure_policy::skip && st.failed_at != 0) {
    log(log_level::warning, "projection " + o.name + " skips the event at position "
                              + std::to_string(st.failed_at) + ": " + err.to_string());
    (void)st.sink->park(st.failed_at, err);
    st.skip.insert(st.failed_at);
    st.monitor->add_parked();
    resume(self);
    return;
  }
  log(log_level::error, "projection " + o.name + " is faulted at position "
                          + std::to_string(st.failed_at) + ": " + err.to_string());
  st.faulted = true;
  st.monitor->set_fault(st.failed_at, err.to_string());
}

// The sink finished events handed over earlier (or one of them failed).
void on_poll(projection_actor* self) {
  auto& st = self->state;
  if (st.faulted || !st.sub->active())
    return;
  global_position failed_at = 0;
  if (auto ok = st.sink->poll(failed_at); !ok) {
    st.failed_at = failed_at;
    st.sub->pause();
    on_failure(self, ok.error());
    return;
  }
  if (auto settled = st.sink->settled(); settled && *settled > st.monitor->position())
    st.monitor->advance(*settled);
  schedule_wakeup(self);
}

void on_mode(projection_actor* self, bool live) {
  auto& st = self->state;
  if (live) {
    if (st.rebuilding) {
      st.rebuilding = false;
      st.monitor->set_rebuild_progress(st.rebuild_total, st.rebuild_total);
    }
    st.monitor->set_state(projection_state::live);
  } else {
    st.monitor->set_state(st.rebuilding ? projection_state::rebuilding : projection_state::catching_up);
  }
}

void rebuild(projection_actor* self) {
  auto& st = self->state;
  st.sub->pause();
  if (auto ok = st.sink->reset(); !ok) {
    st.faulted = true;
    st.monitor->set_fault(0, "rebuild: " + ok.error().to_string());
    return;
  }
  st.skip.clear();
  st.attempts = 0;
  st.monitor->reset_position();
  st.rebuild_total = st.store->last_position().value_or(0);
  st.monitor->set_rebuild_progress(0, st.rebuild_total);
  st.rebuilding = true;
  resume(self);
}

caf::behavior projection(projection_actor* self, event_store* store, caf::actor bus,
                         std::shared_ptr<projection_sink> sink, projection_options options,
                         std::shared_ptr<projection_monitor> monitor) {
  auto& st = self->state;
  st.store = store;
  st.sink = std::move(sink);
  st.options = std::move(options);
  st.monitor = std::move(monitor);
  st.sub = std::make_unique<detail::subscription>(
    self, *store, std::move(bus), st.options.filter, st.options.chunk_events,
    [=](const std::vector<event_view>& evs, global_position through) { return apply(self, evs, through); },
    [=](const error& err) { on_failure(self, err); }, [=](bool live) { on_mode(self, live); },
    st.options.apply_interval);
  // Weak: the sink must not keep its own actor alive.
  st.sink->set_wakeup([weak = caf::actor_cast<caf::weak_actor_ptr>(self)] {
    if (auto strong = weak.lock())
      caf::anon_send(caf::actor_cast<caf::actor>(strong), detail::poll_atom::value);
  });
  resume(self);
  return {
    [=](detail::catchup_atom) { self->state.sub->catch_up_step(); },
    [=](detail::poll_atom) { on_poll(self); },
    [=](detail::wakeup_atom) {
      self->state.wakeup_at.reset();
      on_poll(self);
    },
    [=](detail::committed_atom, const detail::committed_events& batch) {
      self->state.sub->on_committed(batch);
    },
    [=](detail::committed_atom, const detail::committed_batches& batches, global_position through) {
      self->state.sub->on_delivery(batches, through);
    },
    [=](detail::flush_atom) { self->state.sub->flush(); },
    [=](detail::progress_atom, global_position p) { self->state.sub->on_progress(p); },
    [=](detail::behind_atom) { self->state.sub->on_behind(); },
    [=](detail::retry_atom) {
      if (!self->state.faulted && !self->state.sub->active())
        resume(self);
    },
    [=](detail::restart_atom) {
      self->state.attempts = 0;
      self->state.sub->pause();
      resume(self);
    },
    [=](detail::skip_atom) -> caf::result<void> {
      auto& s = self->state;
      if (!s.faulted || s.failed_at == 0)
        return to_caf_error(make_error(errc::bad_request, "the projection is not faulted at an event"));
      (void)s.sink->park(s.failed_at, make_error(errc::rejected, "skipped by an operator"));
      s.skip.insert(s.failed_at);
      s.monitor->add_parked();
      s.attempts = 0;
      resume(self);
      return caf::unit;
    },
    [=](detail::rebuild_atom) { rebuild(self); },
    [=](detail::stop_atom) {
      self->state.sub->pause();
      self->state.monitor->set_state(projection_state::stopped);
    },
  };
}

} // namespace

status fix_start_position(event_store& store, projection_sink& sink,
                          const projection_options& options) {
  if (options.start != start_position::end)
    return {};
  auto stored = sink.stored_position();
  if (!stored)
    return std::move(stored).error();
  if (*stored)
    return {};
  auto end = store.last_position();
  if (!end)
    return std::move(end).error();
  return sink.store_position(*end);
}

caf::actor spawn_projection(caf::actor_system& sys, event_store& store, caf::actor bus,
                            std::shared_ptr<projection_sink> sink, projection_options options,
                            std::shared_ptr<projection_monitor> monitor) {
  return detail::spawn_service(sys, projection, &store, std::move(bus), std::move(sink),
                               std::move(options), std::move(monitor));
}

} // namespace annal
