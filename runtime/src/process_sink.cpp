// The projection sink of a process manager: handles a batch's events concurrently (in
// order per instance), waits once for the batch, and commits the staged state, timers and
// checkpoint of the handled prefix in one transaction.
#include "process_sink.hpp"

#include <algorithm>
#include <functional>
#include <queue>
#include <unordered_map>

#include "annal/fault_points.hpp"
#include "annal/runtime.hpp"
#include "process_run.hpp"

namespace annal::detail {

namespace {

// A batch whose replies stop coming for this long is given up (commands time out far
// sooner; this only bounds a runtime that lost a reply).
constexpr std::chrono::minutes stall_limit{5};

// The events of one instance in a batch, in order, and what the handled ones staged.
struct instance_chain {
  std::vector<std::size_t> members;
  std::size_t next = 0;
  process_context::staged overlay;
};

void merge(process_context::staged& into, process_context::staged&& from) {
  for (auto& [k, v] : from.state)
    into.state[k] = std::move(v);
  for (auto& [k, v] : from.timers)
    into.timers[k] = std::move(v);
}

} // namespace

process_sink::process_sink(runtime& rt, process_manager spec, table_id state_table,
                           timer_tables timers, std::function<void()> wake)
  : rt_(rt), name_(spec.options.name), handler_(std::move(spec.handle)),
    key_(std::move(spec.instance_key)), max_concurrent_(std::max<std::size_t>(spec.max_concurrent_events, 1)),
    state_table_(state_table), timers_(timers), wake_(std::move(wake)) {}

result<std::optional<global_position>> process_sink::stored_position() {
  return rt_.read_models().find_checkpoint(checkpoint_name());
}

status process_sink::store_position(global_position position) {
  return rt_.read_models().save_checkpoint(checkpoint_name(), position);
}

status process_sink::commit(const process_context::staged& s, global_position through) {
  auto ok = rt_.read_models().write([&](read_model_txn& t) -> status {
    for (const auto& [key, value] : s.state) {
      auto full = name_ + "/" + key;
      auto r = value ? t.put(state_table_, full, *value) : t.erase(state_table_, full);
      if (!r)
        return r;
    }
    for (const auto& [full_key, timer] : s.timers)
      if (auto r = write_timer(t, timers_, full_key, timer ? timer->first : 0,
                               timer ? &timer->second : nullptr);
          !r)
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

status process_sink::apply(const std::vector<event_view>& events, global_position through,
                           global_position& failed_at) {
  if (events.empty())
    return {};
  auto box = std::make_shared<batch_mailbox>();
  std::vector<event_run> runs(events.size());
  std::unordered_map<std::string, instance_chain> chains;
  std::vector<instance_chain*> chain_of(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    std::string key;
    try {
      key = key_ ? key_(events[i]) : std::string{events[i].stream_id};
    } catch (...) {
      key = std::string{events[i].stream_id};
    }
    auto& c = chains[key];
    c.members.push_back(i);
    chain_of[i] = &c;
  }
  // Heads of their instance's chain, not started yet, lowest index first.
  std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> eligible;
  for (auto& [key, c] : chains)
    eligible.push(c.members.front());
  std::size_t active = 0;
  std::size_t stop = events.size(); // the lowest failed event: nothing after it starts

  auto finish = [&](std::size_t i) {
    --active;
    auto& c = *chain_of[i];
    if (runs[i].failure) {
      stop = std::min(stop, i);
      return;
    }
    process_context::staged copy = runs[i].staged;
    merge(c.overlay, std::move(copy));
    if (++c.next < c.members.size())
      eligible.push(c.members[c.next]);
  };
  auto launch = [&] {
    while (!eligible.empty() && active < max_concurrent_ && eligible.top() < stop) {
      auto i = eligible.top();
      eligible.pop();
      auto& r = runs[i];
      r.rt = &rt_;
      r.manager = &name_;
      r.event = &events[i];
      r.state_table = state_table_;
      r.index = i;
      r.mailbox = box;
      r.earlier = &chain_of[i]->overlay;
      ++active;
      r.start(handler_);
      if (r.done())
        finish(i);
    }
  };

  launch();
  std::deque<batch_mailbox::message> inbox;
  while (active > 0) {
    if (!box->take(inbox, stall_limit)) {
      std::size_t first_open = 0;
      while (first_open < runs.size() && runs[first_open].done())
        ++first_open;
      failed_at = events[std::min(first_open, events.size() - 1)].position;
      return make_error(errc::timeout, "process manager " + name_ + ": replies stopped coming");
    }
    for (auto& m : inbox) {
      auto& r = runs[m.run];
      if (r.done())
        continue;
      r.deliver(m.slot, std::move(m.result));
      if (r.done())
        finish(m.run);
    }
    inbox.clear();
    launch();
  }

  process_context::staged all;
  for (std::size_t i = 0; i < stop; ++i)
    merge(all, std::move(runs[i].staged));
  if (stop == events.size())
    return commit(all, through);
  // Keep what the events before the failed one did: their commands were sent. The failed
  // event and everything after it are handled again, with the same command ids.
  failed_at = events[stop].position;
  if (stop > 0)
    (void)commit(all, events[stop].position - 1);
  return *runs[stop].failure;
}

status process_sink::reset() {
  auto parked = rt_.read_models().table(parked_table_name);
  if (!parked)
    return std::move(parked).error();
  return rt_.read_models().write([&](read_model_txn& t) -> status {
    if (auto ok = clear_parked(t, *parked, name_); !ok)
      return ok;
    std::vector<std::string> keys;
    auto prefix = name_ + "/";
    auto ok = t.scan(state_table_, prefix, [&](std::string_view k, std::string_view) {
      keys.emplace_back(k);
      return true;
    });
    if (!ok)
      return ok;
    for (const auto& k : keys)
      if (auto e = t.erase(state_table_, k); !e)
        return e;
    return t.save_checkpoint(checkpoint_name(), 0);
  });
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
  // the managers reached.
  if (!lowest || (old.empty() && successors_found == successors.size()))
    return {};
  std::vector<std::pair<std::string, global_position>> next;
  for (const auto& s : successors)
    next.emplace_back(std::string{prefix} + s, *lowest);
  auto ok = store.write([&](read_model_txn& t) -> status {
    for (const auto& [name, position] : next)
      if (auto r = t.save_checkpoint(name, position); !r)
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
