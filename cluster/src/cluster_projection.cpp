#include "annal/cluster/cluster_projection.hpp"

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "annal/call_user_code.hpp"
#include "annal/cluster/cluster_node.hpp"
#include "annal/log.hpp"

namespace annal::cluster {

namespace {

// Checkpoint keys: the shard as two big-endian bytes (table order = shard order).
std::string shard_key(uint16_t shard) {
  return std::string{static_cast<char>(shard >> 8), static_cast<char>(shard & 0xff)};
}

std::string encode_u64(uint64_t x) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i, x >>= 8)
    s[static_cast<std::size_t>(i)] = static_cast<char>(x & 0xff);
  return s;
}

result<uint64_t> decode_u64(std::string_view s) {
  if (s.size() != 8)
    return make_error(errc::corrupt, "malformed shard checkpoint");
  uint64_t x = 0;
  for (char c : s)
    x = (x << 8) | static_cast<uint8_t>(c);
  return x;
}

// A read's answer arrives on an actor thread; the callback always runs (once_delivery),
// within the link's bound. The wait's own bound only guards against a bug there.
result<shard_events> read_and_wait(const cluster_node& node, uint16_t shard, uint64_t after,
                                   uint64_t hint, uint64_t hint_epoch) {
  auto p = std::make_shared<std::promise<result<shard_events>>>();
  auto f = p->get_future();
  node.read_shard(shard, after, hint, hint_epoch,
                  [p](result<shard_events> r) { p->set_value(std::move(r)); });
  if (f.wait_for(std::chrono::seconds(30)) != std::future_status::ready)
    return make_error(errc::unavailable, "no answer to a shard read within 30 s");
  return f.get();
}

// Empties `tables` when no shard has a checkpoint yet (one transaction).
status clear_if_fresh(read_model_store& store, table_id checkpoints,
                      const std::vector<std::string>& tables) {
  std::vector<table_id> ids;
  for (const auto& name : tables) {
    auto id = store.table(name);
    if (!id)
      return std::move(id).error();
    ids.push_back(*id);
  }
  return store.write([&](read_model_txn& t) -> status {
    bool fresh = true;
    auto scanned = t.scan(checkpoints, {}, [&](std::string_view, std::string_view) {
      fresh = false;
      return false;
    });
    if (!scanned || !fresh)
      return scanned;
    for (auto id : ids)
      if (auto ok = t.clear(id); !ok)
        return ok;
    return {};
  });
}

} // namespace

shard_event_handler apply_each(std::vector<durable_projection> specs) {
  return [specs = std::move(specs)](read_model_txn& t, const recorded_event& e) -> status {
    auto view = e.view();
    for (const auto& spec : specs)
      if (spec.options.filter.matches(e.stream_id, e.type))
        if (auto ok = spec.apply(t, view); !ok)
          return ok;
    return {};
  };
}

std::vector<std::string> tables_of(const std::vector<durable_projection>& specs) {
  std::vector<std::string> out;
  for (const auto& spec : specs)
    out.insert(out.end(), spec.tables.begin(), spec.tables.end());
  return out;
}

struct cluster_projection::state {
  const cluster_node* node = nullptr;
  read_model_store* store = nullptr;
  cluster_projection_options options;
  shard_event_handler handler;
  table_id checkpoints = 0;

  mutable std::mutex mx;
  std::condition_variable wake;
  bool stopping = false;
  bool nudged = false;             // guarded by mx: catch_up_now() asked for every shard
  bool reader_waiting = false;     // guarded by mx: a reader waits for a due shard
  std::vector<uint64_t> positions; // by shard; guarded by mx
  std::vector<uint64_t> hints;       // by shard; the thread's own
  std::vector<uint64_t> hint_epochs; // the epoch each hint belongs to; the thread's own
  std::atomic<uint64_t> applied{0};
  std::thread thread;

  // Applies the events past the shard's stored checkpoint in one transaction, with it.
  // `through` and `n` (events applied) are set by the attempt that commits.
  status apply(uint16_t shard, const std::vector<recorded_event>& events, uint64_t& through,
               uint64_t& n) {
    return store->write([&](read_model_txn& t) -> status {
      n = 0;
      auto key = shard_key(shard);
      auto stored = t.get(checkpoints, key);
      if (!stored)
        return std::move(stored).error();
      uint64_t cp = 0;
      if (*stored) {
        auto v = decode_u64(**stored);
        if (!v)
          return std::move(v).error();
        cp = *v;
      }
      for (const auto& e : events) {
        if (e.shard_position <= cp)
          continue; // applied before (a restart, or a read that raced a write)
        // A throwing handler is an error value: the transaction aborts, the round retries.
        if (auto ok = call_user_code("cluster projection handler", [&] { return handler(t, e); }); !ok)
          return ok;
        cp = e.shard_position;
        ++n;
      }
      through = cp;
      return t.put(checkpoints, key, encode_u64(cp));
    });
  }

  // Catches `shard` up to its end as the owner sees it; false when it failed (retried
  // next round).
  bool catch_up(uint16_t shard) {
    for (;;) {
      uint64_t after;
      {
        std::lock_guard<std::mutex> lock{mx};
        if (stopping)
          return true;
        after = positions[shard];
      }
      auto r = read_and_wait(*node, shard, after, hints[shard], hint_epochs[shard]);
      if (!r) {
        hints[shard] = 0; // the owner may have changed: its hint means nothing elsewhere
        log(log_level::warning, "cluster projection " + options.name + ": shard "
                                  + std::to_string(shard) + ": " + r.error().message);
        return false;
      }
      if (!r->events.empty()) {
        uint64_t through = after, n = 0;
        if (auto ok = apply(shard, r->events, through, n); !ok) {
          log(log_level::warning, "cluster projection " + options.name + ": shard "
                                    + std::to_string(shard) + ": " + ok.error().message);
          return false;
        }
        applied.fetch_add(n, std::memory_order_relaxed);
        {
          std::lock_guard<std::mutex> lock{mx};
          positions[shard] = through;
        }
        wake.notify_all(); // wait_for callers
      }
      hints[shard] = r->next_hint;
      hint_epochs[shard] = r->epoch;
      if (r->at_end)
        return true;
    }
  }

  // -- push: what wakes the thread between rounds ------------------------------------------
  // A peer's watch answers with the heads of the shards it owns; those past the projection
  // are due. A local commit makes the local shards due. Guarded by mx.
  std::vector<bool> due;
  bool any_due = false;
  bool local_commit = false;
  std::map<std::string, bool> watching;                               // by peer: a watch is out
  std::map<std::string, std::chrono::steady_clock::time_point> failed; // by peer: its last failure
  uint64_t commit_listener = 0;
  bool listening = false;

  // Held while watches are sent, so that stop() can wait for a send in progress on an
  // actor thread (a watch's callback) before the node may leave. Recursive: a watch that
  // fails at once answers on the sending thread.
  std::recursive_mutex arming;

  // Sends a watch to every peer without one out (a failed peer only after idle_poll).
  void arm_watches(const std::shared_ptr<state>& self) {
    std::lock_guard<std::recursive_mutex> sending{arming};
    std::vector<std::pair<std::string, std::vector<uint64_t>>> to_send;
    auto peers = node->peers(); // a node that joined since is watched too
    {
      std::lock_guard<std::mutex> lock{mx};
      auto now = std::chrono::steady_clock::now();
      if (stopping)
        return;
      for (const auto& p : peers)
        watching.emplace(p, false);
      for (auto& [peer, out] : watching) {
        auto f = failed.find(peer);
        if (out || (f != failed.end() && now - f->second < options.idle_poll))
          continue;
        out = true;
        to_send.emplace_back(peer, positions);
      }
    }
    // Outside the lock: an unknown peer answers on this thread.
    std::weak_ptr<state> weak = self;
    for (auto& [peer, known] : to_send)
      node->watch_shards(peer, std::move(known), options.idle_poll,
                         [weak, peer = peer](result<std::vector<uint64_t>> heads) {
                           auto s = weak.lock();
                           // Nothing moved (the watch expired): watch again at once, or a
                           // commit before the next round would wait for the fallback.
                           if (s && s->watched(peer, heads))
                             s->arm_watches(s);
                         });
  }

  // A watch's answer (on an actor thread). True when it named no shard to read: the
  // caller watches again; otherwise the round that reads them does.
  bool watched(const std::string& peer, const result<std::vector<uint64_t>>& heads) {
    bool moved = false;
    {
      std::lock_guard<std::mutex> lock{mx};
      watching[peer] = false;
      if (!heads) {
        failed[peer] = std::chrono::steady_clock::now();
        return false; // the idle_poll round retries the peer's shards and the watch
      }
      failed.erase(peer);
      for (std::size_t shard = 0; shard < heads->size() && shard < positions.size(); ++shard)
        if ((*heads)[shard] > positions[shard]) {
          due[shard] = true;
          moved = any_due = true;
        }
    }
    if (moved)
      wake.notify_all();
    return !moved;
  }

  void run(const std::shared_ptr<state>& self) {
    std::vector<bool> round(positions.size(), true); // the first round reads every shard
    for (;;) {
      bool failed_read = false;
      for (uint16_t shard = 0; shard < positions.size(); ++shard)
        if (round[shard] && !catch_up(shard))
          failed_read = true;
      arm_watches(self);
      std::unique_lock<std::mutex> lock{mx};
      // Rounds at most every `poll` (unless a reader waits): commits in between are read
      // together. After a failed read (owner down, a handler error) every `idle_poll`: a
      // watch that keeps saying "moved" must not spin the reads (and the log).
      if (failed_read) {
        if (wake.wait_for(lock, options.idle_poll, [&] { return stopping || nudged; }) && stopping)
          return;
      } else if (wake.wait_for(lock, options.poll, [&] { return stopping || nudged || reader_waiting; })
                 && stopping) {
        return;
      }
      bool woken = wake.wait_for(lock, options.idle_poll, [&] {
        return stopping || nudged || any_due || local_commit;
      });
      if (stopping)
        return;
      // Without push (no answer in idle_poll, a peer down, a reader's nudge) read them all.
      bool all = !woken || nudged;
      for (uint16_t shard = 0; shard < positions.size(); ++shard)
        round[shard] = all || due[shard] || (local_commit && node->owns_shard(shard));
      due.assign(due.size(), false);
      any_due = local_commit = nudged = reader_waiting = false;
    }
  }
};

result<std::unique_ptr<cluster_projection>> cluster_projection::start(
  const cluster_node& node, read_model_store& store, cluster_projection_options options,
  shard_event_handler handler) {
  if (options.name.empty() || !handler)
    return make_error(errc::bad_request, "a cluster projection needs a name and a handler");
  auto table = store.table(options.name + ".shards");
  if (!table)
    return std::move(table).error();
  if (auto ok = clear_if_fresh(store, *table, options.tables); !ok)
    return std::move(ok).error();
  auto s = std::make_shared<state>();
  s->node = &node;
  s->store = &store;
  s->options = std::move(options);
  s->handler = std::move(handler);
  s->checkpoints = *table;
  auto count = node.status().shards.shard_count();
  s->positions.assign(count, 0);
  s->hints.assign(count, 0);
  s->hint_epochs.assign(count, 0);
  auto ok = store.read([&](const read_model_txn& t) -> status {
    return t.scan(s->checkpoints, {}, [&](std::string_view k, std::string_view v) {
      auto x = decode_u64(v);
      if (k.size() == 2 && x) {
        auto shard = static_cast<uint16_t>((static_cast<uint8_t>(k[0]) << 8) | static_cast<uint8_t>(k[1]));
        if (shard < count)
          s->positions[shard] = *x;
      }
      return true;
    });
  });
  if (!ok)
    return std::move(ok).error();
  s->due.assign(count, false);
  std::weak_ptr<state> weak = s;
  s->commit_listener = node.add_commit_listener([weak] {
    if (auto st = weak.lock()) {
      {
        std::lock_guard<std::mutex> lock{st->mx};
        if (st->local_commit)
          return;
        st->local_commit = true;
      }
      st->wake.notify_all();
    }
  });
  s->listening = true;
  s->thread = std::thread([s] { s->run(s); });
  return std::unique_ptr<cluster_projection>(new cluster_projection(std::move(s)));
}

cluster_projection::~cluster_projection() {
  stop();
}

void cluster_projection::stop() {
  {
    std::lock_guard<std::mutex> lock{state_->mx};
    state_->stopping = true;
  }
  state_->wake.notify_all();
  if (state_->thread.joinable())
    state_->thread.join();
  // A watch's callback may be sending new watches: after this, none touches the node.
  std::lock_guard<std::recursive_mutex> sending{state_->arming};
  if (state_->listening) {
    state_->node->remove_commit_listener(state_->commit_listener);
    state_->listening = false;
  }
}

void cluster_projection::catch_up_now(std::optional<uint16_t> shard) const {
  {
    std::lock_guard<std::mutex> lock{state_->mx};
    if (shard && *shard < state_->due.size()) {
      state_->due[*shard] = true;
      state_->any_due = state_->reader_waiting = true;
    } else {
      state_->nudged = true;
    }
  }
  state_->wake.notify_all();
}

uint64_t cluster_projection::position(uint16_t shard) const {
  std::lock_guard<std::mutex> lock{state_->mx};
  return shard < state_->positions.size() ? state_->positions[shard] : 0;
}

std::size_t cluster_projection::shard_count() const {
  return state_->due.size(); // sized once at start
}

std::vector<uint64_t> cluster_projection::positions() const {
  std::lock_guard<std::mutex> lock{state_->mx};
  return state_->positions;
}

status cluster_projection::wait_for(uint16_t shard, uint64_t shard_position,
                                    std::chrono::milliseconds timeout) const {
  auto& s = *state_;
  std::unique_lock<std::mutex> lock{s.mx};
  if (shard >= s.positions.size())
    return make_error(errc::bad_request, "shard " + std::to_string(shard) + " does not exist");
  if (s.positions[shard] < shard_position) {
    s.due[shard] = true;
    s.any_due = s.reader_waiting = true;
    s.wake.notify_all();
  }
  s.wake.wait_for(lock, timeout,
                  [&] { return s.stopping || s.positions[shard] >= shard_position; });
  if (s.positions[shard] >= shard_position)
    return {};
  if (s.stopping)
    return make_error(errc::unavailable, "the cluster projection " + s.options.name + " stopped");
  return make_error(errc::timeout, "the cluster projection " + s.options.name + " is at "
                                     + std::to_string(s.positions[shard]) + " in shard "
                                     + std::to_string(shard) + ", not yet at "
                                     + std::to_string(shard_position));
}

uint64_t cluster_projection::applied() const {
  return state_->applied.load(std::memory_order_relaxed);
}

} // namespace annal::cluster
