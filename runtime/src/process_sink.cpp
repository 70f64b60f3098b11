// The projection sink of a process manager: handles a batch's events concurrently (in
// order per instance), waits once for the batch, and commits the staged state, timers and
// checkpoint of the handled prefix in one transaction.
#include "process_sink.hpp"

#include <caf/scheduler/test_coordinator.hpp>

#include <algorithm>
#include <functional>
#include <queue>
#include <unordered_map>

#include "annal/detail/service_spawn.hpp"
#include "annal/fault_points.hpp"
#include "annal/log.hpp"
#include "annal/runtime.hpp"
#include "process_run.hpp"

namespace annal::detail {

namespace {

// A batch whose replies stop coming for this long is given up (commands time out far
// sooner; this only bounds a runtime that lost a reply).
constexpr std::chrono::minutes stall_limit{5};

// How often a manager with work in flight commits its finished prefix.
constexpr std::chrono::milliseconds commit_interval{10};

void merge(process_context::staged& into, process_context::staged&& from) {
  for (auto& [k, v] : from.state)
    into.state[k] = std::move(v);
  for (auto& [k, v] : from.timers)
    into.timers[k] = std::move(v);
  for (auto& [k, v] : from.state_shards)
    into.state_shards[k] = v;
  for (auto& [k, v] : from.timer_shards)
    into.timer_shards[k] = v;
}

uint16_t shard_of_write(const std::map<std::string, uint16_t>& shards, const std::string& key) {
  auto i = shards.find(key);
  return i == shards.end() ? 0 : i->second;
}

} // namespace

process_sink::process_sink(runtime& rt, process_manager spec, process_tables tables,
                           std::function<void()> wake)
  : rt_(rt), name_(spec.options.name), handler_(std::move(spec.handle)),
    key_(std::move(spec.instance_key)), max_concurrent_(std::max<std::size_t>(spec.max_concurrent_events, 1)),
    tables_(tables), wake_(std::move(wake)),
    box_(std::make_shared<batch_mailbox>()),
    coordinator_(test_coordinator_of(rt.system())) {}

result<std::optional<global_position>> process_sink::stored_position() {
  auto stored = rt_.read_models().find_checkpoint(checkpoint_name());
  if (stored) // the projection resumes there: that much is settled
    settled_ = stored->value_or(0);
  return stored;
}

status process_sink::store_position(global_position position) {
  auto ok = rt_.read_models().save_checkpoint(checkpoint_name(), position);
  if (ok)
    settled_ = position;
  return ok;
}

status process_sink::commit(const process_context::staged& s, const deferral_writes& deferrals,
                            global_position through) {
  auto ok = rt_.read_models().write([&](read_model_txn& t) -> status {
    for (const auto& [key, value] : s.state)
      if (auto r = write_state(t, tables_, name_ + "/" + key, shard_of_write(s.state_shards, key), value); !r)
        return r;
    for (const auto& [full_key, timer] : s.timers)
      if (auto r = write_shard_timer(t, tables_, full_key, shard_of_write(s.timer_shards, full_key),
                                     timer ? timer->first : 0, timer ? &timer->second : nullptr);
          !r)
        return r;
    // After the state writes: a held-back event handled now wrote them.
    for (const auto& [key, held] : deferrals)
      if (auto r = held ? t.put(tables_.deferred, key, {}) : t.erase(tables_.deferred, key); !r)
        return r;
    return t.save_checkpoint(checkpoint_name(), through);
  });
  if (ok) {
    testing::reach(testing::fault_point::batch_committed, name_);
    if (!s.timers.empty() && wake_)
      wake_();
  }
  return ok;
}

void process_sink::set_wakeup(std::function<void()> wake) {
  poll_wakeup_ = std::move(wake);
  box_->on_first_post(poll_wakeup_);
  tables_.expected->on_arrival(poll_wakeup_); // held-back events may run now
}

std::optional<std::chrono::steady_clock::time_point> process_sink::next_wakeup() const {
  auto now = std::chrono::steady_clock::now();
  if (reload_deferred_ && !held_.empty())
    return now; // restarted with events held back: see at once which may run
  std::optional<std::chrono::steady_clock::time_point> first;
  for (const auto& entry : deferred_) {
    auto end = tables_.expected->wait_ends(entry.first).value_or(now); // none: the rows are here
    if (!first || end < *first)
      first = end;
  }
  return first;
}

status process_sink::load_deferred() {
  result<std::map<uint16_t, std::vector<global_position>>> found = std::map<uint16_t, std::vector<global_position>>{};
  auto ok = rt_.read_models().read([&](const read_model_txn& t) -> status {
    found = deferred_events(t, tables_, name_);
    return found ? status{} : found.error();
  });
  if (!ok)
    return ok;
  reload_deferred_ = false;
  deferred_ = std::move(*found);
  replaying_.clear();
  auto before = held_;
  for (auto shard : before)
    update_hold(shard);
  for (const auto& entry : deferred_)
    update_hold(entry.first);
  return {};
}

void process_sink::update_hold(uint16_t shard) {
  bool held = deferred_.count(shard) > 0 || replaying_.count(shard) > 0;
  if (held == (held_.count(shard) > 0))
    return;
  tables_.expected->hold(shard, name_, held);
  if (held)
    held_.insert(shard);
  else
    held_.erase(shard);
}

bool process_sink::defers(const event_view& e, std::chrono::steady_clock::time_point now) const {
  if (deferred_.empty() && tables_.expected->idle())
    return false;
  return deferred_.count(e.shard) > 0 || tables_.expected->awaits(e.shard, now);
}

void process_sink::add_slot(const event_view& e, slot_kind kind) {
  auto seq = base_ + window_.size();
  auto& s = window_.emplace_back(); // in place: the view points into the owned copy
  s.owned = e.to_owned();
  s.view = s.owned.view();
  s.kind = kind;
  if (kind == slot_kind::defer || kind == slot_kind::drop) {
    s.finished = true; // nothing to run: committed with the prefix it ends up in
    return;
  }
  try {
    s.key = key_ ? key_(s.view) : std::string{s.view.stream_id};
  } catch (...) {
    s.key = std::string{s.view.stream_id};
  }
  auto& chain = chains_[s.key];
  chain.pending.push_back(seq);
  ++chain.uncommitted;
  if (chain.pending.size() == 1)
    eligible_.push(seq);
  ++unfinished_;
}

status process_sink::release_deferred() {
  if (reload_deferred_)
    if (auto ok = load_deferred(); !ok)
      return ok;
  if (deferred_.empty())
    return {};
  auto now = std::chrono::steady_clock::now();
  std::optional<std::set<global_position>> parked;
  for (auto it = deferred_.begin(); it != deferred_.end();) {
    auto shard = it->first;
    if (tables_.expected->awaits(shard, now)) {
      ++it;
      continue;
    }
    if (tables_.expected->contains(shard))
      log(log_level::warning, "process manager " + name_ + " handles " + std::to_string(it->second.size())
                                + " events of shard " + std::to_string(shard)
                                + " without the state its old owner has not handed over in time");
    if (!parked) {
      auto p = parked_positions();
      if (!p)
        return std::move(p).error();
      parked.emplace(p->begin(), p->end());
    }
    for (auto position : it->second) {
      auto found = rt_.store().read_all(position - 1, 1);
      if (!found)
        return std::move(found).error();
      bool gone = found->empty() || found->front().position != position; // deleted since
      if (gone) {
        recorded_event stub; // only the record's key is needed
        stub.position = position;
        stub.shard = shard;
        add_slot(stub.view(), slot_kind::drop);
      } else {
        add_slot(found->front().view(), parked->count(position) ? slot_kind::drop : slot_kind::replay);
      }
      ++replaying_[shard];
    }
    it = deferred_.erase(it);
  }
  launch();
  return {};
}

void process_sink::clear_window() {
  base_ += window_.size();
  window_.clear();
  chains_.clear();
  eligible_ = {};
  marks_.clear();
  active_ = 0;
  unfinished_ = 0;
  stop_.reset();
  // Held-back events queued again and not committed are still recorded: read them again.
  replaying_.clear();
  reload_deferred_ = true;
  // Replies to the commands of the events given up go to the old mailbox, unread.
  box_ = std::make_shared<batch_mailbox>();
  box_->on_first_post(poll_wakeup_);
}

void process_sink::finish(uint64_t seq) {
  --active_;
  --unfinished_;
  auto& s = window_[seq - base_];
  s.finished = true;
  if (s.run.failure) {
    stop_ = std::min(stop_.value_or(seq), seq);
    return; // its instance stays blocked: nothing after a failed event starts
  }
  auto& chain = chains_[s.key];
  process_context::staged copy = s.run.staged;
  merge(chain.overlay, std::move(copy));
  chain.pending.pop_front();
  if (!chain.pending.empty())
    eligible_.push(chain.pending.front());
}

void process_sink::launch() {
  while (!eligible_.empty() && active_ < max_concurrent_ && (!stop_ || eligible_.top() < *stop_)) {
    auto seq = eligible_.top();
    eligible_.pop();
    auto& s = window_[seq - base_];
    auto& r = s.run;
    r.rt = &rt_;
    r.manager = &name_;
    r.event = &s.view;
    r.state_table = tables_.state;
    r.index = seq;
    r.mailbox = box_;
    r.earlier = &chains_[s.key].overlay;
    ++active_;
    r.start(handler_);
    if (r.done())
      finish(seq);
  }
}

void process_sink::deliver(std::deque<batch_mailbox::message>& inbox) {
  for (auto& m : inbox) {
    if (m.run < base_ || m.run - base_ >= window_.size())
      continue;
    auto& r = window_[m.run - base_].run;
    if (r.done())
      continue;
    r.deliver(m.slot, std::move(m.result));
    if (r.done())
      finish(m.run);
  }
  inbox.clear();
  launch();
}

bool process_sink::drain_until(const std::function<bool()>& done) {
  std::deque<batch_mailbox::message> inbox;
  if (box_->take(inbox, std::chrono::milliseconds(0))) // what is there already
    deliver(inbox);
  while (!done()) {
    if (!await_replies(inbox))
      return false;
    deliver(inbox);
  }
  return true;
}

bool process_sink::await_replies(std::deque<batch_mailbox::message>& inbox) {
  if (!coordinator_)
    return box_->take(inbox, stall_limit);
  // On the test coordinator this actor's step is the only thing running: the replies come
  // only if the other actors' messages run here, one at a time, in the coordinator's order.
  while (!box_->take(inbox, std::chrono::milliseconds(0)))
    if (!coordinator_->try_run_once())
      return false; // nothing left to run: they cannot come without the clock moving
  return true;
}

status process_sink::settle(global_position& failed_at) {
  // The finished prefix: committed together with the checkpoint it reaches.
  std::size_t k = 0;
  while (k < window_.size() && window_[k].finished && !window_[k].run.failure)
    ++k;
  // While events remain unfinished, commit at most every commit_interval: each commit
  // rewrites the manager's state pages and costs a sync.
  auto now = std::chrono::steady_clock::now();
  if (k > 0 && k < window_.size() && !stop_ && now - last_commit_ < commit_interval)
    return {};
  // Never below what is settled: a held-back event queued again lies behind it.
  global_position through = settled_.value_or(0);
  for (const auto& [end, pos] : marks_)
    if (end <= base_ + k)
      through = std::max(through, pos);
  if (k > 0) {
    last_commit_ = now;
    process_context::staged all;
    deferral_writes deferrals;
    for (std::size_t i = 0; i < k; ++i) {
      auto& slot = window_[i];
      if (slot.kind == slot_kind::handle || slot.kind == slot_kind::defer)
        through = std::max(through, slot.view.position); // inside a batch: up to its last event
      if (slot.kind != slot_kind::handle)
        deferrals.emplace_back(deferred_key(name_, slot.view.shard, slot.view.position),
                               slot.kind == slot_kind::defer);
      merge(all, std::move(slot.run.staged));
    }
    if (auto ok = commit(all, deferrals, through); !ok) {
      failed_at = 0;
      clear_window(); // handled again from the stored checkpoint
      return ok;
    }
    for (std::size_t i = 0; i < k; ++i) {
      const auto& slot = window_.front();
      if (slot.kind == slot_kind::handle || slot.kind == slot_kind::replay) {
        auto c = chains_.find(slot.key);
        if (c != chains_.end() && --c->second.uncommitted == 0 && c->second.pending.empty())
          chains_.erase(c);
      }
      if (slot.kind == slot_kind::replay || slot.kind == slot_kind::drop) {
        auto shard = slot.view.shard;
        if (auto r = replaying_.find(shard); r != replaying_.end() && --r->second == 0) {
          replaying_.erase(r);
          update_hold(shard);
        }
      }
      window_.pop_front();
      ++base_;
    }
  }
  while (!marks_.empty() && marks_.front().first <= base_)
    marks_.pop_front();
  if (through > 0 && through > settled_.value_or(0))
    settled_ = through;
  if (stop_ && active_ == 0) {
    // Keep what the events before the failed one did: their commands were sent. The failed
    // event and everything after it are handled again, with the same command ids.
    auto& failed = window_.front(); // every event before it was committed above
    failed_at = failed.view.position;
    error why = *failed.run.failure;
    clear_window();
    return why;
  }
  return {};
}

status process_sink::apply(const std::vector<event_view>& events, global_position through,
                           global_position& failed_at) {
  // Before this batch: a shard's held-back events run before its later ones.
  if (auto ok = release_deferred(); !ok) {
    failed_at = 0;
    return ok;
  }
  auto now = std::chrono::steady_clock::now();
  for (const auto& e : events) {
    // Copied here with its shard from the node that first committed it: that node's
    // process managers handle it (they follow their own log), so acting here would act twice.
    if (e.imported)
      continue;
    if (defers(e, now)) {
      deferred_[e.shard].push_back(e.position);
      update_hold(e.shard);
      add_slot(e, slot_kind::defer);
    } else {
      add_slot(e, slot_kind::handle);
    }
  }
  marks_.emplace_back(base_ + window_.size(), through);
  launch();
  // Wait only while too much is unfinished (or for a failed event's neighbours to end):
  // the rest finishes while the next batch starts, or on poll().
  if (!drain_until([&] { return stop_ ? active_ == 0 : unfinished_ <= max_concurrent_; })) {
    std::size_t first_open = 0;
    while (first_open < window_.size() && window_[first_open].finished)
      ++first_open;
    failed_at = first_open < window_.size() ? window_[first_open].view.position : 0;
    clear_window();
    return make_error(errc::timeout, "process manager " + name_ + ": replies stopped coming");
  }
  return settle(failed_at);
}

status process_sink::poll(global_position& failed_at) {
  if (auto ok = release_deferred(); !ok) {
    failed_at = 0;
    return ok;
  }
  if (window_.empty())
    return {};
  std::deque<batch_mailbox::message> inbox;
  if (box_->take(inbox, std::chrono::milliseconds(0)))
    deliver(inbox);
  // settle() commits the finished prefix at most every commit_interval while events are
  // unfinished: a commit per reply would cost a sync each.
  return settle(failed_at);
}

status process_sink::reset() {
  clear_window();
  settled_ = 0;
  auto parked = rt_.read_models().table(parked_table_name);
  if (!parked)
    return std::move(parked).error();
  return rt_.read_models().write([&](read_model_txn& t) -> status {
    if (auto ok = clear_parked(t, *parked, name_); !ok)
      return ok;
    if (auto ok = erase_state(t); !ok)
      return ok;
    if (auto ok = erase_deferred(t); !ok)
      return ok;
    return t.save_checkpoint(checkpoint_name(), 0);
  });
}

// Events held back are handled again from the start of the log (a rebuild).
status process_sink::erase_deferred(read_model_txn& t) {
  auto found = deferred_events(t, tables_, name_);
  if (!found)
    return std::move(found).error();
  for (const auto& [shard, positions] : *found)
    for (auto position : positions)
      if (auto ok = t.erase(tables_.deferred, deferred_key(name_, shard, position)); !ok)
        return ok;
  return {};
}

// The manager's state rows and their shard entries (a reset is rare: reading the whole
// shard index is fine).
status process_sink::erase_state(read_model_txn& t) {
  auto prefix = name_ + "/";
  std::vector<std::string> keys, entries;
  auto ok = t.scan(tables_.state, prefix, [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  });
  if (!ok)
    return ok;
  ok = t.scan(tables_.state_shards, "", [&](std::string_view k, std::string_view) {
    if (k.size() > 2 && k.substr(2, prefix.size()) == prefix)
      entries.emplace_back(k);
    return true;
  });
  if (!ok)
    return ok;
  for (const auto& k : keys)
    if (auto e = t.erase(tables_.state, k); !e)
      return e;
  for (const auto& k : entries)
    if (auto e = t.erase(tables_.state_shards, k); !e)
      return e;
  return {};
}

status process_sink::park(global_position position, const error& why) {
  return park_event(rt_.read_models(), name_, position, why);
}

result<std::vector<global_position>> process_sink::parked_positions() {
  return annal::parked_positions(rt_.read_models(), name_);
}

} // namespace annal::detail

namespace annal {

status hand_over_checkpoints(read_model_store& store,
                             const std::function<bool(std::string_view name)>& retired,
                             const std::vector<std::string>& successors) {
  auto all = store.checkpoints();
  if (!all)
    return std::move(all).error();
  std::string_view prefix{detail::process_sink::checkpoint_prefix};
  std::vector<std::string> old;
  std::optional<global_position> lowest;
  std::size_t successors_found = 0;
  for (const auto& [name, position] : *all) {
    if (name.compare(0, prefix.size(), prefix) != 0)
      continue;
    auto manager = std::string_view{name}.substr(prefix.size());
    if (!retired(manager))
      continue;
    lowest = std::min(lowest.value_or(position), position);
    if (std::find(successors.begin(), successors.end(), manager) != successors.end())
      ++successors_found;
    else
      old.push_back(name);
  }
  // Unchanged layout (or nothing stored yet): nothing to do. Otherwise the work was
  // shared out differently, so every successor resumes from the lowest position any of
  // the managers reached — and an event one of them holds back for its shard's process
  // state (behind its checkpoint) counts as not reached: handled again from there, by
  // the successors, which hold it back anew if the state is still on its way.
  if (!lowest || (old.empty() && successors_found == successors.size()))
    return {};
  auto deferred = store.table(detail::process_deferred_table_name);
  if (!deferred)
    return std::move(deferred).error();
  std::vector<std::string> held_back;
  auto scanned = store.read([&](const read_model_txn& t) {
    return t.scan(*deferred, "", [&](std::string_view key, std::string_view) {
      auto r = detail::decode_deferred_key(key);
      if (r && retired(r->name)) {
        lowest = std::min(*lowest, r->position - 1);
        held_back.emplace_back(key);
      }
      return true;
    });
  });
  if (!scanned)
    return scanned;
  std::vector<std::pair<std::string, global_position>> next;
  for (const auto& s : successors)
    next.emplace_back(std::string{prefix} + s, *lowest);
  auto ok = store.write([&](read_model_txn& t) -> status {
    for (const auto& [name, position] : next)
      if (auto r = t.save_checkpoint(name, position); !r)
        return r;
    for (const auto& key : held_back)
      if (auto r = t.erase(*deferred, key); !r)
        return r;
    return {};
  });
  if (!ok)
    return ok;
  for (const auto& name : old)
    if (auto r = store.remove_checkpoint(name); !r)
      return r;
  return {};
}

} // namespace annal
