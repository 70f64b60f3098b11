// Internal: the router of one aggregate type. It finds or spawns the instance of each id,
// keeps at most max_live instances (passivating the least recently used first), and
// passivates instances idle longer than idle_timeout. A command for an instance that is
// passivating waits at the router and goes to a fresh instance once the old one is gone,
// so nothing is lost and two instances of one id never run at once.
//
// Commands from the runtime's callers reach a live instance straight, through the
// instance directory the router keeps (instance_directory.hpp): the router opens an id
// there once its instance is live and closes it before it tells the instance to stop;
// commands for ids without a live instance come here. A use the router did not see is
// counted at its next look (take_touched): an instance idle by the router's clock but
// used straight gets a second chance. When a shard moves (cluster), the router
// passivates the instances of its streams (forget_atom): their state may be stale; so may
// the states that passivated instances left (passivated_states.hpp), which it drops.
#pragma once

#include <caf/all.hpp>

#include <algorithm>
#include <list>
#include <unordered_map>

#include "annal/detail/aggregate_instance.hpp"
#include "annal/detail/instance_directory.hpp"

namespace annal::detail {

template <class A>
struct router_state {
  struct parked_command {
    command_envelope<A> cmd;
    caf::response_promise promise;
  };
  struct entry {
    caf::actor instance;
    std::list<std::string>::iterator lru; // valid while !stopping
    std::chrono::steady_clock::time_point last_used;
    bool stopping = false;
    std::vector<parked_command> parked;
  };

  std::shared_ptr<const aggregate_context> ctx;
  std::shared_ptr<instance_directory> directory; // none: every command comes here
  std::unordered_map<std::string, entry> instances;
  std::unordered_map<caf::actor_addr, std::string> ids; // instance address -> id
  std::list<std::string> lru;                           // front: most recently used
  // Passivated instances back for another id: an activation binds one instead of
  // spawning (see retire() in aggregate_instance.hpp).
  std::vector<caf::actor> spare;
  static constexpr std::size_t max_spare = 1024;
  std::size_t live = 0;
  bool draining = false;
  // Refreshed every tick: idleness is judged at ticks anyway, and reading the clock per
  // command showed in the write path's profile. A use is stamped up to one tick early,
  // so an instance counts as idle only after idle_timeout plus one tick.
  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now();
  std::chrono::milliseconds tick{5};
  std::vector<caf::response_promise> drain_waiters;

  static inline const char* name = "annal.router";

  router_state() = default;
  router_state(const router_state&) = delete;
  router_state& operator=(const router_state&) = delete;
  // Spare instances belong to no one else: they end with their router.
  ~router_state() {
    for (auto& s : spare)
      caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  }
};

template <class A>
using router_actor = caf::stateful_actor<router_state<A>>;

template <class A>
void passivate(router_actor<A>* self, const std::string& id) {
  auto& st = self->state;
  auto& e = st.instances.at(id);
  if (e.stopping)
    return;
  // Before the passivation is sent, so a command sent straight arrives ahead of it; and
  // before the LRU entry goes, which `id` may be.
  if (st.directory)
    st.directory->close(id);
  e.stopping = true;
  st.lru.erase(e.lru);
  --st.live;
  self->send(e.instance, passivate_atom::value);
}

// True when `id`'s instance got commands straight since the router last looked: it counts
// as used now (and moves to the front of the LRU list).
template <class A>
bool used_straight(router_actor<A>* self, const std::string& id) {
  auto& st = self->state;
  if (!st.directory || !st.directory->take_touched(id))
    return false;
  auto& e = st.instances.at(id);
  e.last_used = st.now;
  st.lru.splice(st.lru.begin(), st.lru, e.lru);
  return true;
}

template <class A>
caf::actor spawn_instance(router_actor<A>* self, const std::string& id) {
  auto& st = self->state;
  auto stream = aggregate_traits<A>::stream_id(id);
  caf::actor inst;
  if (!st.spare.empty()) {
    inst = std::move(st.spare.back());
    st.spare.pop_back();
    self->send(inst, bind_atom::value, std::move(stream)); // before any command for it
  } else {
    inst = self->template spawn<caf::monitored>(aggregate_instance<A>, st.ctx, std::move(stream));
  }
  st.ids.emplace(inst.address(), id);
  return inst;
}

template <class A>
typename router_state<A>::entry& activate(router_actor<A>* self, const std::string& id) {
  auto& st = self->state;
  std::size_t spared = 0; // each live instance at most once: the loop ends
  while (st.live >= st.ctx->options.max_live && !st.lru.empty())
    if (spared++ >= st.live || !used_straight(self, st.lru.back()))
      passivate(self, st.lru.back());
  auto& e = st.instances[id];
  e.instance = spawn_instance(self, id);
  st.lru.push_front(id);
  e.lru = st.lru.begin();
  ++st.live;
  return e;
}

template <class A>
bool valid_id(const std::string& id) {
  return !id.empty() && validate_stream_id(aggregate_traits<A>::stream_id(id));
}

template <class A>
void route(router_actor<A>* self, command_envelope<A>& cmd) {
  auto& st = self->state;
  // A command dispatch() counted is reported once passed on: until then, later commands
  // for its id come here too, behind it.
  auto report = [&](const std::string& id, const caf::actor& live) {
    if (cmd.counted && st.directory)
      st.directory->routed(id, live);
  };
  auto reply_now = [&](error err) {
    reply_to(self, cmd).deliver(std::move(err));
    report(cmd.aggregate_id, nullptr);
  };
  if (st.draining)
    return reply_now(make_error(errc::unavailable, "the runtime is stopping"));
  auto i = st.instances.find(cmd.aggregate_id);
  // Only a new id is checked: a known one passed when its instance was spawned (the check
  // builds the stream id, a string per command on the hottest path).
  if (i == st.instances.end() && !valid_id<A>(cmd.aggregate_id))
    return reply_now(make_error(errc::bad_request, "invalid aggregate id '" + cmd.aggregate_id + "'"));
  if (i != st.instances.end() && i->second.stopping) {
    if (i->second.parked.size() >= st.ctx->options.max_waiting)
      return reply_now(make_error(errc::overloaded, aggregate_traits<A>::stream_id(cmd.aggregate_id)
                                                      + ": too many commands waiting"));
    report(i->first, nullptr);
    i->second.parked.push_back({std::move(cmd), self->make_response_promise()});
    return;
  }
  if (i == st.instances.end()) {
    activate(self, cmd.aggregate_id);
    i = st.instances.find(cmd.aggregate_id);
  }
  auto& e = i->second;
  e.last_used = st.now;
  st.lru.splice(st.lru.begin(), st.lru, e.lru);
  bool counted = cmd.counted;
  self->delegate(e.instance, std::move(cmd));
  if (counted && st.directory) // after the delegation: a command sent straight comes behind it
    st.directory->routed(i->first, e.instance);
}

// An instance terminated or came back for another id: forget it, or start one for the
// commands parked meanwhile.
template <class A>
void on_instance_gone(router_actor<A>* self, const caf::actor_addr& source) {
  auto& st = self->state;
  auto k = st.ids.find(source);
  if (k == st.ids.end())
    return;
  auto id = std::move(k->second);
  st.ids.erase(k);
  auto i = st.instances.find(id);
  if (i == st.instances.end())
    return;
  auto& e = i->second;
  if (!e.stopping) { // it died on its own (a bug in user code, or an exit)
    st.lru.erase(e.lru);
    --st.live;
    if (st.directory)
      st.directory->close(id);
  }
  if (e.parked.empty() || st.draining) {
    for (auto& p : e.parked)
      reply_to(p.cmd, p.promise).deliver(make_error(errc::unavailable, "the runtime is stopping"));
    st.instances.erase(i);
  } else {
    auto parked = std::move(e.parked);
    st.instances.erase(i);
    auto& fresh = activate(self, id);
    fresh.last_used = st.now;
    for (auto& p : parked)
      p.promise.delegate(fresh.instance, std::move(p.cmd));
    if (st.directory) // after the commands it held
      st.directory->open(id, fresh.instance);
  }
  if (st.draining && st.instances.empty()) {
    for (auto& rp : st.drain_waiters)
      rp.deliver(caf::unit);
    st.drain_waiters.clear();
  }
}

template <class A>
void on_instance_down(router_actor<A>* self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto dead = std::find_if(st.spare.begin(), st.spare.end(),
                           [&](const caf::actor& a) { return a.address() == dm.source; });
  if (dead != st.spare.end())
    st.spare.erase(dead);
  on_instance_gone(self, dm.source);
}

// A passivated instance is idle and holds nothing of its id: keep it for the next
// activation (the commands parked for its id may take it at once), or let it end.
template <class A>
void on_instance_recycled(router_actor<A>* self) {
  auto& st = self->state;
  auto inst = caf::actor_cast<caf::actor>(self->current_sender());
  if (!inst)
    return;
  if (st.draining) {
    // A drain ends when its instances have terminated (their down messages).
    self->send_exit(inst, caf::exit_reason::user_shutdown);
    return;
  }
  if (st.spare.size() < st.max_spare)
    st.spare.push_back(inst);
  else
    self->send_exit(inst, caf::exit_reason::user_shutdown);
  on_instance_gone(self, inst.address());
}

template <class A>
void passivate_idle(router_actor<A>* self) {
  auto& st = self->state;
  st.now = self->clock().now(); // virtual on CAF's test coordinator: tests move it
  auto idle = st.ctx->options.idle_timeout;
  while (!st.lru.empty()) {
    auto& e = st.instances.at(st.lru.back());
    if (st.now - e.last_used < idle + st.tick)
      break;
    if (!used_straight(self, st.lru.back()))
      passivate(self, st.lru.back());
  }
}

/// Sends `env` to its live instance straight when `directory` allows it, else to `router`
/// (counted, so that later commands for the id follow it there).
template <class A>
void dispatch_command(instance_directory& directory, const caf::actor& router, command_envelope<A>&& env) {
  directory.dispatch(
    env.aggregate_id, [&](const caf::actor& instance) { caf::anon_send(instance, std::move(env)); },
    [&] {
      env.counted = true;
      caf::anon_send(router, std::move(env));
    });
}

/// The behavior of the router of aggregate type A; `directory` (may be none) is where it
/// opens the ids of live instances for callers to reach them straight.
template <class A>
caf::behavior aggregate_router(router_actor<A>* self, std::shared_ptr<const aggregate_context> ctx,
                               std::shared_ptr<instance_directory> directory) {
  self->state.ctx = std::move(ctx);
  self->state.directory = std::move(directory);
  auto tick = std::max<std::chrono::milliseconds>(self->state.ctx->options.idle_timeout / 4,
                                                  std::chrono::milliseconds(5));
  self->state.tick = tick;
  self->state.now = self->clock().now();
  self->set_down_handler([=](caf::down_msg& dm) { on_instance_down(self, dm); });
  self->delayed_send(self, tick, tick_atom::value);
  return {
    [=](command_envelope<A>& cmd) { route(self, cmd); },
    [=](recycled_atom) { on_instance_recycled(self); },
    [=](tick_atom) {
      passivate_idle(self);
      self->delayed_send(self, tick, tick_atom::value);
    },
    [=](drain_atom) -> caf::result<void> {
      auto& st = self->state;
      st.draining = true;
      for (auto& s : st.spare)
        self->send_exit(s, caf::exit_reason::user_shutdown);
      st.spare.clear();
      while (!st.lru.empty())
        passivate(self, st.lru.back());
      if (st.instances.empty())
        return caf::unit;
      st.drain_waiters.push_back(self->make_response_promise());
      return caf::delegated<void>{};
    },
    [=](forget_atom, uint16_t shard, uint16_t shard_count) {
      // The shard moved here or away: what the live instances hold of it may be stale.
      // Commands from now on wait for fresh instances, which load the journal as it is.
      auto& st = self->state;
      // Kept states of its streams too (all of them: moves are rare), before the
      // passivations below, whose instances then keep nothing (their epoch is past).
      if (st.ctx->passivated)
        st.ctx->passivated->clear();
      std::vector<std::string> gone;
      for (const auto& id : st.lru)
        if (shard_of_stream(aggregate_traits<A>::stream_id(id), shard_count) == shard)
          gone.push_back(id);
      for (const auto& id : gone)
        passivate(self, id);
    },
    [=](stats_atom) { return static_cast<uint64_t>(self->state.live); },
  };
}

} // namespace annal::detail
