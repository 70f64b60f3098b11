// Process managers: the context their handlers and continuations see, and the handling of
// one event (handler, replies, continuations) on the manager's thread.
#include "annal/process_manager.hpp"

#include "annal/call_user_code.hpp"
#include "annal/fault_points.hpp"
#include "annal/runtime.hpp"
#include "process_run.hpp"

namespace annal {

namespace {

std::string correlation_of(const event_view& e) {
  return e.correlation_id.empty() ? std::string{e.stream_id} : std::string{e.correlation_id};
}

} // namespace

// -- process_context --------------------------------------------------------------------

const event_view& process_context::event() const noexcept {
  return *run_.event;
}

runtime& process_context::rt() noexcept {
  return *run_.rt;
}

command_options process_context::prepare(command_options options) {
  auto rank = rank_++;
  const auto& e = *run_.event;
  // Named by the event's stream and version, which no other event anywhere shares: a
  // position is one node's, so in a cluster managers on two nodes would send one id for two
  // events and the second command would be answered as the first's duplicate.
  if (options.command_id.empty())
    options.command_id = *run_.manager + "/" + std::string{e.stream_id} + "@" + std::to_string(e.version) + "/"
                         + scope_ + std::to_string(rank);
  if (options.correlation_id.empty())
    options.correlation_id = correlation_of(e);
  if (options.causation_id.empty())
    options.causation_id = std::to_string(e.position);
  return options;
}

std::pair<reply_ref, std::function<void(command_result)>> process_context::expect_reply() {
  auto slot = run_.replies.size();
  run_.replies.emplace_back();
  run_.taken.push_back(false);
  ++run_.outstanding;
  auto box = run_.mailbox;
  auto index = run_.index;
  return {reply_ref{slot}, [box, index, slot](command_result r) {
            box->post({index, slot, std::move(r)});
          }};
}

void process_context::then(reply_ref r, reply_continuation fn) {
  detail::pending_continuation c;
  c.slots = {r.slot};
  c.one = std::move(fn);
  c.scope = scope_ + std::to_string(continuations_++) + ".";
  run_.waiting.push_back(std::move(c));
}

void process_context::then(std::vector<reply_ref> rs, replies_continuation fn) {
  detail::pending_continuation c;
  for (const auto& r : rs)
    c.slots.push_back(r.slot);
  c.many = std::move(fn);
  c.scope = scope_ + std::to_string(continuations_++) + ".";
  run_.waiting.push_back(std::move(c));
}

status process_context::stage_timer(const std::string& key, timestamp_ns due, stored_command cmd) {
  auto full_key = *run_.manager + "/" + key;
  cmd.command_id = "timer/" + full_key + "/" + std::to_string(due);
  cmd.correlation_id = correlation_of(*run_.event);
  cmd.causation_id = std::to_string(run_.event->position);
  run_.staged.timers[full_key] = std::make_pair(due, std::move(cmd));
  run_.staged.timer_shards[full_key] = run_.event->shard;
  return {};
}

void process_context::cancel(const std::string& key) {
  auto full_key = *run_.manager + "/" + key;
  run_.staged.timers[full_key] = std::nullopt;
  run_.staged.timer_shards[full_key] = run_.event->shard;
}

result<std::optional<std::string>> process_context::get(const std::string& key) const {
  if (auto i = run_.staged.state.find(key); i != run_.staged.state.end())
    return i->second;
  if (run_.earlier != nullptr)
    if (auto i = run_.earlier->state.find(key); i != run_.earlier->state.end())
      return i->second;
  std::optional<std::string> out;
  auto full = *run_.manager + "/" + key;
  auto ok = run_.rt->read_models().read([&](const read_model_txn& t) -> status {
    auto v = t.get(run_.state_table, full);
    if (!v)
      return std::move(v).error();
    if (*v)
      out.emplace(**v);
    return {};
  });
  if (!ok)
    return std::move(ok).error();
  return out;
}

void process_context::put(const std::string& key, std::string value) {
  run_.staged.state[key] = std::move(value);
  run_.staged.state_shards[key] = run_.event->shard;
}

void process_context::erase(const std::string& key) {
  run_.staged.state[key] = std::nullopt;
  run_.staged.state_shards[key] = run_.event->shard;
}

namespace detail {

// -- batch_mailbox ----------------------------------------------------------------------

void batch_mailbox::post(message m) {
  std::function<void()> wake;
  {
    std::lock_guard<std::mutex> guard{mx_};
    if (queue_.empty())
      wake = on_first_post_;
    queue_.push_back(std::move(m));
  }
  cv_.notify_one();
  if (wake)
    wake();
}

void batch_mailbox::on_first_post(std::function<void()> fn) {
  std::lock_guard<std::mutex> guard{mx_};
  on_first_post_ = std::move(fn);
}

bool batch_mailbox::take(std::deque<message>& out, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock{mx_};
  if (!cv_.wait_for(lock, timeout, [this] { return !queue_.empty(); }))
    return false;
  for (auto& m : queue_)
    out.push_back(std::move(m));
  queue_.clear();
  return true;
}

// -- event_run --------------------------------------------------------------------------

void event_run::fail(error e) {
  if (!failure)
    failure = std::move(e);
  waiting.clear(); // no continuation runs after an error; replies are still awaited
}

void event_run::start(const process_handler& handler) {
  started = true;
  process_context ctx{*this, ""};
  auto ok = call_user_code("handler", [&] { return handler(ctx, *event); });
  if (!ok)
    fail(std::move(ok).error());
  for (const auto& c : waiting)
    for (auto s : c.slots)
      if (s >= replies.size())
        return fail(make_error(errc::bad_request, "a continuation waits for an unknown reply"));
  run_ready();
}

void event_run::deliver(std::size_t slot, command_result result) {
  if (slot >= replies.size() || replies[slot])
    return;
  replies[slot] = std::move(result);
  --outstanding;
  testing::reach(testing::fault_point::command_answered, *manager);
  run_ready();
}

// Runs every waiting continuation whose replies are all in, in the order they were
// registered; each may register more.
void event_run::run_ready() {
  bool progress = true;
  while (progress && !failure) {
    progress = false;
    for (std::size_t i = 0; i < waiting.size(); ++i) {
      auto& w = waiting[i];
      bool ready = true;
      for (auto s : w.slots)
        if (!replies[s])
          ready = false;
      if (!ready)
        continue;
      auto c = std::move(w);
      waiting.erase(waiting.begin() + static_cast<std::ptrdiff_t>(i));
      for (auto s : c.slots)
        taken[s] = true;
      process_context ctx{*this, c.scope};
      auto ok = call_user_code("continuation", [&]() -> status {
        if (c.one)
          return c.one(ctx, *replies[c.slots.front()]);
        std::vector<command_result> rs;
        rs.reserve(c.slots.size());
        for (auto s : c.slots)
          rs.push_back(*replies[s]);
        return c.many(ctx, std::move(rs));
      });
      if (!ok)
        return fail(std::move(ok).error());
      for (const auto& n : waiting)
        for (auto s : n.slots)
          if (s >= replies.size())
            return fail(make_error(errc::bad_request, "a continuation waits for an unknown reply"));
      progress = true;
      break;
    }
  }
  if (outstanding == 0 && waiting.empty())
    check_untaken();
}

// An outcome nobody continued on fails the event if a retry may cure it: the command may
// not have run.
void event_run::check_untaken() {
  if (failure)
    return;
  for (std::size_t s = 0; s < replies.size(); ++s)
    if (!taken[s] && replies[s] && !*replies[s] && is_transient(replies[s]->error().code))
      return fail(replies[s]->error());
}

} // namespace detail
} // namespace annal
