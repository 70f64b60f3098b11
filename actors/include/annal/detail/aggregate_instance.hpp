// Internal: the actor of one live aggregate instance.
//
// Commands run strictly one at a time in arrival order. Each is decided against the
// *tentative* state (durable state plus the events of appends still in flight), its
// events go to the journal writer at once (pipelining), and its reply waits until the
// writer reports the append durable. If an append fails, every command in flight fails
// with that error and the instance rehydrates from the journal before taking more, so its
// state always equals the journal's. An exception in decide changes nothing; one in
// evolve discards the instance's state, which is rebuilt from the journal before the next
// command runs. Either throw answers errc::handler_fault (a bug, not a domain refusal).
#pragma once

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "annal/aggregate_traits.hpp"
#include "annal/append.hpp"
#include "annal/call_user_code.hpp"
#include "annal/detail/aggregate_context.hpp"
#include "annal/detail/aggregate_loader.hpp"
#include "annal/detail/atoms.hpp"
#include "annal/detail/command_envelope.hpp"
#include "annal/detail/messages.hpp"
#include "annal/detail/recent_commands.hpp"
#include "annal/detail/reply_handle.hpp"
#include "annal/detail/small_queue.hpp"
#include "annal/loader_pool.hpp"
#include "annal/log.hpp"

namespace caf {
template <class A>
struct allowed_unsafe_message_type<annal::detail::loaded_state<A>> : std::true_type {};
} // namespace caf

namespace annal::detail {

template <class A>
struct instance_state {
  using traits = aggregate_traits<A>;

  struct waiting_command {
    command_envelope<A> cmd;
    reply_handle reply;
  };

  // A reply that waits for an append it does not own: a command that produced no event,
  // or a repeated command id whose first run is still in flight.
  struct follower {
    reply_handle reply;
    bool duplicate = false;
    std::string command_id; // of a command that produced no event, remembered on success
  };

  struct in_flight_append {
    uint64_t token = 0;
    stream_version version_after = 0;
    std::string command_id;
    reply_handle reply;
    std::vector<follower> followers;
  };

  enum class phase : uint8_t { unloaded, loading, running };

  std::shared_ptr<const aggregate_context> ctx;
  std::string stream_id;
  phase current = phase::unloaded;
  std::optional<typename A::state> tentative;
  stream_version version = 0;          // tentative
  global_position last_position = 0;   // of the newest durable event
  uint64_t last_shard_position = 0;    // of the same event
  uint16_t shard = 0;                  // of stream_id in the store
  stream_version last_snapshot = 0;
  std::size_t last_snapshot_bytes = 0;  // of the newest snapshot it wrote (0: none since loaded)
  std::size_t bytes_since_snapshot = 0; // of the events it decided since
  uint64_t next_token = 1;
  small_queue<in_flight_append> in_flight;
  small_queue<waiting_command> waiting;
  recent_commands recent;
  bool reload_pending = false;
  bool passivating = false;
  bool expiry_armed = false; // a wake-up for the earliest deadline among `waiting` is due
  // Who told it to passivate: it goes back to that router, to serve another id, instead
  // of terminating (none: it terminates).
  caf::actor router;
  // Bumped each time it serves another id: an expiry wake-up armed for the previous id
  // is ignored.
  uint64_t life = 0;
  // The passivated states' epoch when this state was loaded (see passivated_states.hpp).
  uint64_t cache_epoch = 0;

  static inline const char* name = "annal.aggregate";
};

template <class A>
using instance_actor = caf::stateful_actor<instance_state<A>>;

template <class A>
void start_load(instance_actor<A>* self);
template <class A>
void drain_waiting(instance_actor<A>* self);

template <class A>
error instance_error(instance_actor<A>* self, errc code, const std::string& what) {
  return make_error(code, self->state.stream_id + ": " + what);
}

// Serves `stream_id` from now: an instance starts with one and a recycled one gets the
// next from its router.
template <class A>
void serve(instance_actor<A>* self, std::string stream_id) {
  auto& st = self->state;
  st.stream_id = std::move(stream_id);
  st.shard = shard_of_stream(st.stream_id, st.ctx->store->options().shard_count);
  st.recent = recent_commands{st.ctx->options.recent_command_ids};
  start_load(self);
}

// Passivated and idle: back to the router that passivated it, with nothing of its id
// kept. Recycling the actor spares a spawn and a termination per activation: CAF wakes
// its clock thread for every actor that terminates (W4 churns ~15 k instances a second).
template <class A>
void stash_state(instance_actor<A>* self);

template <class A>
void retire(instance_actor<A>* self) {
  auto& st = self->state;
  if (!st.router)
    return self->quit();
  stash_state(self);
  auto router = std::move(st.router);
  auto ctx = std::move(st.ctx);
  auto token = st.next_token; // tokens stay unique across ids: no stale reply can match
  auto life = st.life + 1;
  instance_state<A> fresh;
  st = std::move(fresh);
  st.ctx = std::move(ctx);
  st.next_token = token;
  st.life = life;
  self->send(router, recycled_atom::value);
}

template <class A>
void maybe_quit(instance_actor<A>* self) {
  auto& st = self->state;
  if (st.passivating && st.in_flight.empty() && st.waiting.empty()
      && st.current != instance_state<A>::phase::loading)
    retire(self);
}

// A success at `version` whose newest durable event is the instance's newest.
template <class A>
command_reply reply_at(const instance_state<A>& st, stream_version version, bool duplicate) {
  return command_reply{version, st.last_position, duplicate, st.shard, st.last_shard_position};
}

// Replays a remembered result; a success restored from a load (snapshot or replay) lacks
// its shard position, one from a snapshot its position too.
template <class A>
command_result replay_result(instance_actor<A>* self, command_result r) {
  if (!r)
    return r;
  r->duplicate = true;
  r->shard = self->state.shard;
  if ((r->position == 0 || r->shard_position == 0) && r->version > 0) {
    auto ev = self->state.ctx->store->read_stream(self->state.stream_id,
                                                  stream_range{r->version, r->version, 1});
    if (ev && !ev->empty()) {
      r->position = ev->front().position;
      r->shard_position = ev->front().shard_position;
    }
  }
  return r;
}

// True when the command was answered from (or attached to) an earlier run of its id.
template <class A>
bool answer_duplicate(instance_actor<A>* self, const std::string& id, reply_handle& reply) {
  auto& st = self->state;
  if (id.empty())
    return false;
  if (auto r = st.recent.find(id)) {
    reply.deliver(replay_result(self, *r));
    return true;
  }
  for (auto& f : st.in_flight) {
    bool ran_here = f.command_id == id
                    || std::any_of(f.followers.begin(), f.followers.end(),
                                   [&](const auto& x) { return x.command_id == id; });
    if (ran_here) {
      f.followers.push_back({std::move(reply), true, {}});
      return true;
    }
  }
  return false;
}

// The instance's remembered successful command ids, oldest first, by reference (for a
// snapshot payload; `extra` leaves room for more).
template <class A>
std::vector<recent_entry_ref> recent_refs(const instance_state<A>& st, std::size_t extra = 0) {
  std::vector<recent_entry_ref> out;
  out.reserve(st.recent.size() + extra);
  st.recent.for_each_success([&](const std::string& id, uint64_t v, uint64_t p) {
    out.push_back({&id, v, p});
  });
  return out;
}

// The snapshot to attach to an append that reaches the snapshot interval.
template <class A>
std::optional<snapshot_record> make_snapshot(instance_actor<A>* self, const std::string& cmd_id) {
  using traits = aggregate_traits<A>;
  auto& st = self->state;
  snapshot_payload_view<A> payload{*st.tentative, recent_refs(st, st.in_flight.size() + 1)};
  for (auto& f : st.in_flight)
    if (!f.command_id.empty())
      payload.recent.push_back({&f.command_id, f.version_after, 0});
  if (!cmd_id.empty())
    payload.recent.push_back({&cmd_id, st.version, 0});
  auto bytes = to_bytes(payload);
  if (!bytes) {
    log(log_level::warning, "cannot snapshot " + st.stream_id + ": " + bytes.error().to_string());
    return std::nullopt;
  }
  st.last_snapshot = st.version;
  st.last_snapshot_bytes = bytes->size();
  st.bytes_since_snapshot = 0;
  return snapshot_record{st.stream_id, st.version, 0, traits::snapshot_type(),
                         traits::snapshot_schema(), std::move(*bytes)};
}

// Whether the append that brought the instance to `version` carries a snapshot: every
// snapshot_every events, and after a large snapshot only once the events since hold as many
// bytes as it did (aggregate_options::large_snapshot_bytes).
inline bool snapshot_due(const aggregate_options& o, stream_version version, stream_version last_snapshot,
                         std::size_t last_snapshot_bytes, std::size_t bytes_since_snapshot) {
  if (o.snapshot_every == 0 || version - last_snapshot < o.snapshot_every)
    return false;
  return o.large_snapshot_bytes == 0 || last_snapshot_bytes <= o.large_snapshot_bytes
         || bytes_since_snapshot >= last_snapshot_bytes;
}

// Serializes the decided events; false (and the reply sent) when one cannot be.
template <class A>
bool encode_events(instance_actor<A>* self, const command_envelope<A>& cmd,
                   const std::vector<typename A::event>& events, stream_append& out,
                   reply_handle& reply) {
  using traits = aggregate_traits<A>;
  out.events.reserve(events.size());
  for (const auto& ev : events) {
    new_event ne;
    ne.type.assign(traits::event_name(ev));
    ne.schema_version = traits::event_schema(ev);
    if (auto ok = traits::encode(ev, ne.payload); !ok) {
      reply.deliver(instance_error(self, errc::bad_request, ok.error().message));
      return false;
    }
    ne.metadata = event_metadata{cmd.options.command_id, cmd.options.correlation_id,
                                 cmd.options.causation_id};
    out.events.push_back(std::move(ne));
  }
  return true;
}

// Decides one command against the tentative state and sends its events to the writer.
template <class A>
void execute(instance_actor<A>* self, command_envelope<A>& cmd, reply_handle reply) {
  using traits = aggregate_traits<A>;
  auto& st = self->state;
  const auto& id = cmd.options.command_id;
  if (std::chrono::steady_clock::now() > cmd.deadline)
    return reply.deliver(instance_error(self, errc::timeout, "the command waited past its deadline"));
  if (answer_duplicate(self, id, reply))
    return;
  if (!cmd.options.expected.matches(st.version))
    return reply.deliver(make_conflict(st.stream_id, cmd.options.expected, st.version));
  decision<typename A::event> d;
  if (auto ok = call_user_code("decide", [&] { d = traits::decide(*st.tentative, cmd.command); }); !ok)
    return reply.deliver(instance_error(self, errc::handler_fault, ok.error().message));
  if (d.rejected()) {
    auto err = instance_error(self, errc::rejected, d.reason());
    st.recent.remember(id, err);
    return reply.deliver(err);
  }
  if (d.events().empty()) {
    // Remembered too: a repeat must not decide again against a state that moved on.
    if (!st.in_flight.empty())
      return st.in_flight.back().followers.push_back({std::move(reply), false, id});
    auto rep = reply_at(st, st.version, false);
    st.recent.remember(id, rep);
    return reply.deliver(rep);
  }
  stream_append app{st.stream_id, expected_version::exact(st.version), {}};
  if (!encode_events(self, cmd, d.events(), app, reply))
    return;
  st.bytes_since_snapshot += approximate_bytes(app);
  auto evolved = call_user_code("evolve", [&] {
    for (const auto& ev : d.events())
      traits::apply(*st.tentative, ev);
  });
  if (!evolved) {
    log(log_level::error, st.stream_id + ": " + evolved.error().message
                            + "; the instance rebuilds its state from the journal");
    st.reload_pending = true;
    return reply.deliver(instance_error(self, errc::handler_fault, evolved.error().message));
  }
  st.version += app.events.size();
  std::optional<snapshot_record> snap;
  if (snapshot_due(st.ctx->options, st.version, st.last_snapshot, st.last_snapshot_bytes,
                   st.bytes_since_snapshot))
    snap = make_snapshot(self, id);
  auto token = st.next_token++;
  st.in_flight.push_back({token, st.version, id, std::move(reply), {}});
  self->send(st.ctx->writer, append_atom::value, append_request{std::move(app), token, std::move(snap)});
}

// Schedules one wake-up at the earliest deadline of the waiting commands, so that a
// command stuck behind a stalled journal or a slow rehydration fails with timeout when its
// deadline passes, not when its turn finally comes.
template <class A>
void arm_expiry(instance_actor<A>* self) {
  auto& st = self->state;
  if (st.expiry_armed || st.waiting.empty())
    return;
  auto earliest = st.waiting.front().cmd.deadline;
  for (const auto& w : st.waiting)
    earliest = std::min(earliest, w.cmd.deadline);
  auto now = std::chrono::steady_clock::now();
  auto delay = earliest > now ? std::chrono::duration_cast<std::chrono::milliseconds>(earliest - now)
                              : std::chrono::milliseconds{0};
  // At most a second ahead, re-armed while commands wait: a delayed message keeps its
  // receiver alive until it fires, and nearly every activation arms one (its first command
  // waits for the load), so with the full deadline (30 s by default) every instance
  // passivated meanwhile stayed in memory that long: 1,000,000 aggregates with 100,000
  // live grew by ~2 KB per activation for 30 s.
  delay = std::min(delay, std::chrono::milliseconds{1000});
  st.expiry_armed = true;
  self->delayed_send(self, delay + std::chrono::milliseconds{1}, expire_atom::value, st.life);
}

// Fails the waiting commands whose deadline passed (they never ran); the others keep
// their order.
template <class A>
void expire_waiting(instance_actor<A>* self, uint64_t life) {
  auto& st = self->state;
  if (life != st.life)
    return; // armed while it served another id
  st.expiry_armed = false;
  auto now = std::chrono::steady_clock::now();
  small_queue<typename instance_state<A>::waiting_command> kept;
  for (auto& w : st.waiting) {
    if (now > w.cmd.deadline)
      w.reply.deliver(instance_error(self, errc::timeout, "the command waited past its deadline"));
    else
      kept.push_back(std::move(w));
  }
  st.waiting = std::move(kept);
  arm_expiry(self);
  maybe_quit(self);
}

// Runs now when possible; otherwise waits in order (bounded).
template <class A>
void accept(instance_actor<A>* self, command_envelope<A>& cmd, reply_handle reply) {
  using phase = typename instance_state<A>::phase;
  auto& st = self->state;
  bool can_run = st.current == phase::running && !st.reload_pending && st.waiting.empty()
                 && st.in_flight.size() < st.ctx->options.max_in_flight;
  if (can_run) {
    execute(self, cmd, std::move(reply));
    // A throwing evolve with nothing in flight: rebuild now, not on the next append.
    if (st.reload_pending && st.in_flight.empty())
      start_load(self);
    return;
  }
  if (st.waiting.size() >= st.ctx->options.max_waiting)
    return reply.deliver(instance_error(self, errc::overloaded,
                                        std::to_string(st.waiting.size()) + " commands waiting"));
  st.waiting.push_back({std::move(cmd), std::move(reply)});
  if (st.current == phase::unloaded)
    start_load(self);
  // Behind a load, no wake-up: a load never waits for the journal's writer (LMDB readers
  // do not block), and when it ends the waiting commands run or are failed by their
  // deadlines (execute checks them), or a wake-up is armed for those still waiting. A
  // wake-up is a delayed message, and each one wakes CAF's clock thread: W4 armed one per
  // activation (~10 k a second, a fifth of a core).
  if (st.current != phase::loading)
    arm_expiry(self);
}

template <class A>
void drain_waiting(instance_actor<A>* self) {
  using phase = typename instance_state<A>::phase;
  auto& st = self->state;
  while (!st.waiting.empty() && st.current == phase::running && !st.reload_pending
         && st.in_flight.size() < st.ctx->options.max_in_flight) {
    auto w = std::move(st.waiting.front());
    st.waiting.pop_front();
    execute(self, w.cmd, std::move(w.reply));
  }
  if (st.reload_pending && st.in_flight.empty())
    start_load(self);
}

template <class A>
void fail_in_flight(instance_actor<A>* self, const error& err) {
  auto& st = self->state;
  for (auto& f : st.in_flight) {
    f.reply.deliver(err);
    for (auto& x : f.followers)
      x.reply.deliver(err);
  }
  st.in_flight.clear();
}

template <class A>
void on_appended(instance_actor<A>* self, append_outcomes& outcomes) {
  auto& st = self->state;
  for (auto& o : outcomes) {
    if (st.in_flight.empty() || st.in_flight.front().token != o.token)
      continue; // already failed together with an earlier append
    if (!o.outcome) {
      // Later appends of this instance were decided on top of this one: they fail too.
      fail_in_flight(self, instance_error(self, o.outcome.error().code, o.outcome.error().message));
      st.reload_pending = true;
      continue;
    }
    auto f = std::move(st.in_flight.front());
    st.in_flight.pop_front();
    st.last_position = o.outcome->last_position;
    st.last_shard_position = o.outcome->last_shard_position;
    auto rep = reply_at(st, f.version_after, false);
    st.recent.remember(f.command_id, rep);
    f.reply.deliver(rep);
    for (auto& x : f.followers) {
      auto fr = reply_at(st, f.version_after, x.duplicate);
      st.recent.remember(x.command_id, fr);
      x.reply.deliver(fr);
    }
  }
  drain_waiting(self);
  maybe_quit(self);
}

template <class A>
void on_loaded(instance_actor<A>* self, loaded_state<A>& ls) {
  auto& st = self->state;
  st.tentative.emplace(std::move(ls.state));
  st.version = ls.version;
  st.last_position = ls.last_position;
  st.last_shard_position = ls.last_shard_position;
  st.last_snapshot = ls.snapshot_version;
  st.last_snapshot_bytes = 0;
  st.bytes_since_snapshot = 0;
  st.recent.clear();
  for (auto& [id, v, p] : ls.recent)
    st.recent.remember(id, command_reply{v, p, false, st.shard, 0});
  st.current = instance_state<A>::phase::running;
  drain_waiting(self);
  arm_expiry(self);
  maybe_quit(self);
}

template <class A>
void on_load_failed(instance_actor<A>* self, const error& reason) {
  auto& st = self->state;
  log(log_level::warning, "cannot rehydrate " + st.stream_id + ": " + reason.to_string());
  st.current = instance_state<A>::phase::unloaded;
  auto waiting = std::move(st.waiting);
  st.waiting.clear();
  for (auto& w : waiting)
    w.reply.deliver(reason);
  maybe_quit(self);
}

// The kept states of passivated instances of this type; null when none are kept.
template <class A>
passivated_states* kept_states(const instance_state<A>& st) {
  auto* cache = st.ctx->passivated.get();
  return cache != nullptr && cache->enabled() ? cache : nullptr;
}

// Passivating with a state equal to the journal's (nothing in flight, no failed append
// or evolve): keeps it, serialized, for the next activation of its id.
template <class A>
void stash_state(instance_actor<A>* self) {
  auto& st = self->state;
  auto* cache = kept_states(st);
  if (!cache || st.current != instance_state<A>::phase::running || st.reload_pending
      || !st.in_flight.empty() || !st.tentative)
    return;
  snapshot_payload_view<A> payload{*st.tentative, recent_refs(st)};
  auto bytes = to_bytes(payload);
  if (!bytes)
    return; // the next activation replays
  cache->put(st.stream_id,
             passivated_state{st.version, st.last_position, st.last_shard_position,
                              st.last_snapshot, std::move(*bytes)},
             st.cache_epoch);
}

// The state a passivation of this id left, as the start of a load; none when there is
// none or it cannot be decoded.
template <class A>
std::optional<loaded_state<A>> unstash_state(instance_state<A>& st) {
  auto* cache = kept_states(st);
  if (!cache)
    return std::nullopt;
  auto kept = cache->take(st.stream_id);
  if (!kept)
    return std::nullopt;
  auto payload = from_bytes<snapshot_payload<A>>(kept->bytes);
  if (!payload)
    return std::nullopt;
  return loaded_state<A>{std::move(payload->state), kept->version, kept->last_position,
                         kept->last_shard_position, std::move(payload->recent),
                         kept->last_snapshot};
}

template <class A>
void start_load(instance_actor<A>* self) {
  using traits = aggregate_traits<A>;
  auto& st = self->state;
  st.current = instance_state<A>::phase::loading;
  st.reload_pending = false;
  st.tentative.reset();
  if (auto* cache = kept_states(st))
    st.cache_epoch = cache->epoch(); // before the journal is read
  // Passivated lately: the events after the state it left, if any, here (usually none:
  // one head read).
  if (auto kept = unstash_state(st)) {
    auto r = load_tail<A>(*st.ctx->store, *st.ctx->registry, st.stream_id, load_bounds{},
                          st.ctx->options.recent_command_ids, std::move(*kept));
    if (r)
      return on_loaded(self, *r);
    // A failure (a deleted stream, an I/O error) is the journal's answer; a full load
    // from the pool gives it too, without a state from memory in the way.
  }
  // A brand-new aggregate needs one lookup: when new streams are likely, do it here
  // instead of a trip to the pool (which reads the head with the events anyway).
  bool guessed = st.ctx->new_streams->likely_new();
  if (guessed) {
    auto head = st.ctx->store->stream_head(st.stream_id);
    bool fresh = head && head->head == 0 && !head->deleted;
    st.ctx->new_streams->saw(fresh);
    if (fresh) {
      loaded_state<A> initial{traits::initial_state(), 0, 0, 0, {}, 0};
      return on_loaded(self, initial);
    }
  }
  auto ctx = st.ctx;
  auto stream = st.stream_id;
  caf::actor me = caf::actor_cast<caf::actor>(self);
  ctx->loader->submit([ctx, stream, me, guessed] {
    auto r = load_aggregate<A>(*ctx->store, *ctx->registry, stream, load_bounds{},
                               ctx->options.recent_command_ids);
    if (r && !guessed)
      ctx->new_streams->saw(r->version == 0);
    if (r)
      caf::anon_send(me, loaded_atom::value, std::move(*r));
    else
      caf::anon_send(me, loaded_atom::value, load_failure{std::move(r).error()});
  });
}

/// The behavior of the instance whose stream is `stream_id`.
template <class A>
caf::behavior aggregate_instance(instance_actor<A>* self,
                                 std::shared_ptr<const aggregate_context> ctx,
                                 std::string stream_id) {
  self->state.ctx = std::move(ctx);
  serve(self, std::move(stream_id));
  return {
    [=](command_envelope<A>& cmd) { accept(self, cmd, reply_to(self, cmd)); },
    [=](appended_atom, append_outcomes& outcomes) { on_appended(self, outcomes); },
    [=](loaded_atom, loaded_state<A>& ls) { on_loaded(self, ls); },
    [=](loaded_atom, const load_failure& f) { on_load_failed(self, f.reason); },
    [=](passivate_atom) {
      self->state.passivating = true;
      self->state.router = caf::actor_cast<caf::actor>(self->current_sender());
      maybe_quit(self);
    },
    [=](bind_atom, std::string& stream) { serve(self, std::move(stream)); },
    [=](expire_atom, uint64_t life) { expire_waiting(self, life); },
  };
}

} // namespace annal::detail
