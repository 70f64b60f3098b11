#include "annal/journal_writer.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <thread>
#include <unordered_map>

#include "annal/detail/atoms.hpp"
#include "annal/detail/messages.hpp"
#include "annal/detail/service_spawn.hpp"
#include "annal/event_store.hpp"
#include "annal/log.hpp"

namespace annal {

namespace {

struct pending_append {
  detail::append_request request;
  caf::strong_actor_ptr sender;
  std::size_t bytes = 0;
};

// The newest queued snapshot of each stream, handed out oldest-queued first: an older
// snapshot is useless once a newer one exists, and a stream keeps its place in line when
// its snapshot is replaced, so that none starves while others keep coming.
class snapshot_queue {
public:
  std::size_t size() const noexcept { return by_stream_.size(); }
  bool empty() const noexcept { return by_stream_.empty(); }

  void put(snapshot_record s) {
    auto [i, added] = by_stream_.try_emplace(s.stream_id);
    if (added) {
      i->second.seq = next_seq_++;
      order_.emplace(i->second.seq, i->first);
    }
    i->second.record = std::move(s);
  }

  /// The snapshot queued longest ago (the queue must not be empty).
  snapshot_record take_oldest() {
    auto o = order_.begin();
    auto i = by_stream_.find(o->second);
    auto out = std::move(i->second.record);
    by_stream_.erase(i);
    order_.erase(o);
    return out;
  }

private:
  struct entry {
    snapshot_record record;
    uint64_t seq = 0;
  };
  std::unordered_map<std::string, entry> by_stream_;
  std::map<uint64_t, std::string> order_;
  uint64_t next_seq_ = 0;
};

struct writer_state {
  event_store* store = nullptr;
  journal_writer_options options;
  caf::actor bus;
  std::shared_ptr<journal_metrics> metrics;
  std::deque<pending_append> pending;
  snapshot_queue snapshots;
  std::vector<caf::response_promise> sync_waiters;
  bool flush_scheduled = false;
  static inline const char* name = "annal.journal_writer";
};

using writer_actor = caf::stateful_actor<writer_state>;

// Takes the next group of pending appends, bounded by count and bytes.
std::vector<pending_append> take_batch(writer_state& st, write_batch& batch) {
  std::vector<pending_append> taken;
  std::size_t events = 0, bytes = 0;
  while (!st.pending.empty()) {
    auto& next = st.pending.front();
    auto n = next.request.append.events.size();
    if (!taken.empty()
        && (events + n > st.options.max_batch_events || bytes + next.bytes > st.options.max_batch_bytes))
      break;
    events += n;
    bytes += next.bytes;
    taken.push_back(std::move(next));
    st.pending.pop_front();
  }
  batch.appends.reserve(taken.size());
  for (auto& p : taken)
    batch.appends.push_back(std::move(p.request.append));
  return taken;
}

// Snapshots ride along only when no append waits, or when too many are queued.
void add_snapshots(writer_state& st, write_batch& batch) {
  bool idle = batch.appends.empty();
  if (!idle && st.snapshots.size() <= st.options.max_queued_snapshots)
    return;
  std::size_t limit = idle ? st.snapshots.size() : st.snapshots.size() / 4 + 1;
  for (; limit > 0 && !st.snapshots.empty(); --limit)
    batch.snapshots.push_back(st.snapshots.take_oldest());
}

// The appends' indexes grouped by sender, each group in append order, the groups in the
// order their first appends came (a stable sort by address groups them; ordering the groups
// by address instead would make the order of the replies, and so a deterministic run,
// depend on where the allocator put each actor).
std::vector<std::pair<std::size_t, std::size_t>> group_by_sender(const std::vector<pending_append>& taken,
                                                                 std::vector<std::size_t>& order) {
  order.resize(taken.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return taken[a].sender.get() < taken[b].sender.get();
  });
  std::vector<std::pair<std::size_t, std::size_t>> groups; // [begin, end) in order
  for (std::size_t k = 0; k < order.size();) {
    auto begin = k;
    while (k < order.size() && taken[order[k]].sender == taken[order[begin]].sender)
      ++k;
    groups.emplace_back(begin, k);
  }
  std::sort(groups.begin(), groups.end(),
            [&](const auto& a, const auto& b) { return order[a.first] < order[b.first]; });
  return groups;
}

void send_outcomes(writer_actor* self, std::vector<pending_append>& taken,
                   std::vector<result<append_result>>& results) {
  // One message per aggregate per commit, not one per append (a hash map of senders cost
  // a node allocation per append).
  std::vector<std::size_t> order;
  for (auto [begin, end] : group_by_sender(taken, order)) {
    auto& sender = taken[order[begin]].sender;
    detail::append_outcomes outcomes;
    for (auto k = begin; k < end; ++k) {
      auto& p = taken[order[k]];
      if (results[order[k]] && p.request.snapshot)
        self->state.snapshots.put(std::move(*p.request.snapshot));
      outcomes.push_back(detail::append_outcome{p.request.token, std::move(results[order[k]])});
    }
    if (sender)
      self->send(caf::actor_cast<caf::actor>(sender), detail::appended_atom::value,
                 std::move(outcomes));
  }
}

global_position newest_position(const std::vector<result<append_result>>& appends) {
  global_position newest = 0;
  for (const auto& r : appends)
    if (r)
      newest = std::max(newest, r->last_position);
  return newest;
}

void fail_all(std::vector<pending_append>& taken, std::vector<result<append_result>>& results,
              const error& err) {
  results.clear();
  for (std::size_t i = 0; i < taken.size(); ++i)
    results.emplace_back(err);
}

// Commits the next batch; false when there was nothing to commit.
bool flush(writer_actor* self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  write_batch batch;
  auto taken = take_batch(st, batch);
  add_snapshots(st, batch);
  if (batch.empty())
    return false;
  std::vector<result<append_result>> results;
  status hook_ok;
  auto began = std::chrono::steady_clock::now(); // a test's slow-disk hook counts as the disk
  if (st.options.before_commit)
    hook_ok = st.options.before_commit(batch);
  result<batch_outcome> outcome = hook_ok ? st.store->commit(batch, static_cast<bool>(st.bus))
                                          : result<batch_outcome>{hook_ok.error()};
  auto& m = *st.metrics;
  if (outcome) {
    m.commit_durations.record(std::chrono::steady_clock::now() - began);
    if (st.options.after_commit)
      st.options.after_commit(newest_position(outcome->appends));
    results = std::move(outcome->appends);
    m.commits.fetch_add(1, std::memory_order_relaxed);
    m.snapshots_written.fetch_add(batch.snapshots.size(), std::memory_order_relaxed);
  } else {
    log(log_level::error, "journal commit failed: " + outcome.error().to_string());
    fail_all(taken, results, outcome.error());
  }
  for (auto& r : results) {
    if (r) {
      m.appends_committed.fetch_add(1, std::memory_order_relaxed);
      m.events_written.fetch_add(r->last_position == 0 ? 0 : r->last_position - r->first_position + 1,
                                 std::memory_order_relaxed);
    } else {
      m.appends_failed.fetch_add(1, std::memory_order_relaxed);
    }
  }
  // The bus first: its message would otherwise queue in the scheduler behind one message
  // per aggregate of the commit (hundreds under load), and every projection's lag with it.
  if (outcome && st.bus && !outcome->committed.empty())
    self->send(st.bus, detail::committed_atom::value,
               detail::committed_events{std::make_shared<const std::vector<recorded_event>>(
                 std::move(outcome->committed))});
  send_outcomes(self, taken, results);
  return true;
}

// Imports between two group commits: its events get the next positions and go to the bus
// before those of appends still pending, so the bus stays in position order.
void import_chunk(writer_actor* self, detail::import_job& job) {
  auto& st = self->state;
  auto began = std::chrono::steady_clock::now();
  auto out = st.store->import_shard(job.chunk);
  if (out && out->imported > 0) {
    auto& m = *st.metrics;
    m.commit_durations.record(std::chrono::steady_clock::now() - began);
    m.commits.fetch_add(1, std::memory_order_relaxed);
    m.events_written.fetch_add(out->imported, std::memory_order_relaxed);
    if (st.options.after_commit)
      st.options.after_commit(out->last_position);
    if (st.bus) {
      // The imported events are the chunk's last `imported` (skipped ones come first: they
      // are the lowest shard positions), at consecutive positions.
      auto events = std::make_shared<std::vector<recorded_event>>();
      events->reserve(out->imported);
      auto position = out->first_position;
      auto& evs = job.chunk.events;
      for (auto i = evs.size() - out->imported; i < evs.size(); ++i) {
        events->push_back(std::move(evs[i]));
        events->back().position = position++;
        events->back().imported = true;
      }
      self->send(st.bus, detail::committed_atom::value, detail::committed_events{std::move(events)});
    }
  }
  if (job.done)
    job.done(std::move(out));
}

// Returns once a message waits in the mailbox or `budget` has passed, whichever is first,
// so that a message arriving meanwhile is handled without the thread going to sleep.
void watch_mailbox(writer_actor* self, std::chrono::microseconds budget) {
  if (budget.count() <= 0)
    return;
  auto until = std::chrono::steady_clock::now() + budget;
  while (self->mailbox().empty() && std::chrono::steady_clock::now() < until)
    std::this_thread::yield();
}

void schedule_flush(writer_actor* self) {
  if (self->state.flush_scheduled)
    return;
  self->state.flush_scheduled = true;
  // Lands behind every message already queued: one flush commits all of them.
  self->send(self, detail::flush_atom::value);
}

caf::behavior journal_writer(writer_actor* self, event_store* store, journal_writer_options options,
                             caf::actor bus, std::shared_ptr<journal_metrics> metrics) {
  self->state.store = store;
  self->state.options = std::move(options);
  if (detail::runs_deterministically(self->system()))
    self->state.options.idle_spin = std::chrono::microseconds{0}; // nothing arrives while it watches
  self->state.bus = std::move(bus);
  self->state.metrics = std::move(metrics);
  return {
    [=](detail::append_atom, detail::append_request& req) {
      auto bytes = approximate_bytes(req.append);
      self->state.pending.push_back(
        pending_append{std::move(req), self->current_sender(), bytes});
      schedule_flush(self);
    },
    [=](detail::flush_atom) {
      bool committed = flush(self);
      auto& st = self->state;
      if (!st.pending.empty() || !st.snapshots.empty()) {
        schedule_flush(self);
        return;
      }
      for (auto& rp : st.sync_waiters)
        rp.deliver(caf::unit);
      st.sync_waiters.clear();
      if (committed) // nothing to watch for after a flush that found nothing
        watch_mailbox(self, st.options.idle_spin);
    },
    [=](detail::import_atom, detail::import_job& job) { import_chunk(self, job); },
    [=](detail::sync_atom) -> caf::result<void> {
      auto& st = self->state;
      if (st.pending.empty() && st.snapshots.empty() && !st.flush_scheduled)
        return caf::unit;
      st.sync_waiters.push_back(self->make_response_promise());
      schedule_flush(self);
      return caf::delegated<void>{};
    },
  };
}

} // namespace

caf::actor spawn_journal_writer(caf::actor_system& sys, event_store& store,
                                journal_writer_options options, caf::actor bus,
                                std::shared_ptr<journal_metrics> metrics) {
  return detail::spawn_service(sys, journal_writer, &store, std::move(options), std::move(bus),
                               std::move(metrics));
}

} // namespace annal
