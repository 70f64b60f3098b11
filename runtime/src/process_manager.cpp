// Process managers: the context their handlers see, and the projection sink that runs
// them and commits their staged state, timers and checkpoint in one transaction.
#include "annal/process_manager.hpp"

#include "annal/runtime.hpp"
#include "process_sink.hpp"
#include "timer_service.hpp"

namespace annal {

process_context::process_context(runtime& rt, std::string manager, const event_view& event,
                                 table_id state_table)
  : rt_(rt), manager_(std::move(manager)), event_(event), state_table_(state_table) {}

command_options process_context::prepare(command_options options) {
  auto rank = rank_++;
  if (options.command_id.empty())
    options.command_id = manager_ + "/" + std::to_string(event_.position) + "/" + std::to_string(rank);
  if (options.correlation_id.empty())
    options.correlation_id = event_.correlation_id.empty() ? std::string{event_.stream_id}
                                                           : std::string{event_.correlation_id};
  if (options.causation_id.empty())
    options.causation_id = std::to_string(event_.position);
  return options;
}

status process_context::stage_timer(const std::string& key, timestamp_ns due, stored_command cmd) {
  auto full_key = manager_ + "/" + key;
  cmd.command_id = "timer/" + full_key + "/" + std::to_string(due);
  cmd.correlation_id = event_.correlation_id.empty() ? std::string{event_.stream_id}
                                                     : std::string{event_.correlation_id};
  cmd.causation_id = std::to_string(event_.position);
  staged_->timers[full_key] = std::make_pair(due, std::move(cmd));
  return {};
}

void process_context::cancel(const std::string& key) {
  staged_->timers[manager_ + "/" + key] = std::nullopt;
}

std::optional<std::string> process_context::get(const std::string& key) const {
  if (auto i = staged_->state.find(key); i != staged_->state.end())
    return i->second;
  if (auto i = batch_->state.find(key); i != batch_->state.end())
    return i->second;
  std::optional<std::string> out;
  auto full = manager_ + "/" + key;
  (void)rt_.read_models().read([&](const read_model_txn& t) -> status {
    auto v = t.get(state_table_, full);
    if (!v)
      return std::move(v).error();
    if (*v)
      out.emplace(**v);
    return {};
  });
  return out;
}

void process_context::put(const std::string& key, std::string value) {
  staged_->state[key] = std::move(value);
}

void process_context::erase(const std::string& key) {
  staged_->state[key] = std::nullopt;
}

namespace detail {

process_sink::process_sink(runtime& rt, std::string name, process_handler handler,
                           table_id state_table, timer_tables timers, std::function<void()> wake)
  : rt_(rt), name_(std::move(name)), handler_(std::move(handler)), state_table_(state_table),
    timers_(timers), wake_(std::move(wake)) {}

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
  if (ok && !s.timers.empty() && wake_)
    wake_();
  return ok;
}

status process_sink::apply(const std::vector<event_view>& events, global_position through,
                           global_position& failed_at) {
  if (events.empty())
    return {};
  process_context::staged batch;
  bool handled_any = false;
  for (const auto& e : events) {
    process_context::staged one;
    process_context ctx{rt_, name_, e, state_table_};
    ctx.bind(&one, &batch);
    status ok;
    try {
      ok = handler_(ctx, e);
    } catch (const std::exception& ex) {
      ok = make_error(errc::rejected, std::string{"handler threw: "} + ex.what());
    } catch (...) {
      ok = make_error(errc::rejected, "handler threw a non-standard exception");
    }
    if (!ok) {
      // Keep what the earlier events of the batch did: their commands were sent.
      failed_at = e.position;
      if (handled_any)
        (void)commit(batch, e.position - 1);
      return ok;
    }
    for (auto& [k, v] : one.state)
      batch.state[k] = std::move(v);
    for (auto& [k, v] : one.timers)
      batch.timers[k] = std::move(v);
    handled_any = true;
  }
  return commit(batch, through);
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

} // namespace detail
} // namespace annal
