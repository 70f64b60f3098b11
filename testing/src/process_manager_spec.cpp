#include "annal/testing/process_manager_spec.hpp"

#include <algorithm>

namespace annal::testing {

command_capture::command_capture(std::vector<std::string> categories)
  : categories_(std::move(categories)) {}

void command_capture::reply_with(const std::string& category,
                                 std::function<command_result(const forwarded_command&)> reply) {
  std::lock_guard<std::mutex> g{mx_};
  replies_[category] = std::move(reply);
}

std::vector<forwarded_command> command_capture::commands() const {
  std::lock_guard<std::mutex> g{mx_};
  return captured_;
}

std::vector<std::string> command_capture::command_ids() const {
  std::lock_guard<std::mutex> g{mx_};
  std::vector<std::string> out;
  for (const auto& c : captured_)
    out.push_back(c.options.command_id);
  return out;
}

bool command_capture::wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> g{mx_};
  return cv_.wait_for(g, timeout, [&] { return captured_.size() >= n; });
}

void command_capture::clear() {
  std::lock_guard<std::mutex> g{mx_};
  captured_.clear();
}

bool command_capture::is_remote(std::string_view stream_id) const {
  // Streams are "<category>-<id>".
  return std::any_of(categories_.begin(), categories_.end(), [&](const std::string& c) {
    return stream_id.size() > c.size() && stream_id.compare(0, c.size(), c) == 0
           && stream_id[c.size()] == '-';
  });
}

void command_capture::forward(forwarded_command cmd, std::function<void(command_result)> done) {
  std::function<command_result(const forwarded_command&)> reply;
  {
    std::lock_guard<std::mutex> g{mx_};
    auto i = replies_.find(cmd.category);
    if (i != replies_.end())
      reply = i->second;
    captured_.push_back(cmd);
  }
  cv_.notify_all();
  // Outside the lock: the reply may run user code that captures again.
  done(reply ? reply(cmd) : command_result{command_reply{1, 0, false}});
}

result<std::vector<scheduled_timer>> scheduled_timers(runtime& rt) {
  // The timer service's table (runtime/src/timer_service.hpp): key = big-endian due
  // time, then the timer's full key; value = the stored_command.
  auto table = rt.read_models().table("annal.timers");
  if (!table)
    return std::move(table).error();
  std::vector<scheduled_timer> out;
  status decoded;
  auto ok = rt.read_models().read([&](const read_model_txn& t) {
    return t.scan(*table, "", [&](std::string_view k, std::string_view v) {
      if (k.size() < 8) {
        decoded = make_error(errc::corrupt, "a timer key shorter than its due time");
        return false;
      }
      scheduled_timer st;
      uint64_t due = 0;
      for (std::size_t i = 0; i < 8; ++i)
        due = (due << 8) | static_cast<unsigned char>(k[i]);
      st.due = static_cast<timestamp_ns>(due);
      st.key = std::string{k.substr(8)};
      auto cmd = from_bytes<stored_command>(v);
      if (!cmd) {
        decoded = std::move(cmd).error();
        return false;
      }
      st.command = std::move(*cmd);
      out.push_back(std::move(st));
      return true;
    });
  });
  if (!ok)
    return std::move(ok).error();
  if (!decoded)
    return std::move(decoded).error();
  return out;
}

} // namespace annal::testing
