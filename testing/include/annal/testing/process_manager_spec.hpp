// Given/when/then for process managers, on a runtime (runtime_fixture): events in
// (append_given before start, or commands to real aggregates), commands out (a
// command_capture takes every command for chosen categories instead of their aggregates
// and answers them as the test scripts), timers scheduled (scheduled_timers), and
// idempotence on replay (the same command ids after rebuild_projection or a crash).
//
//   auto capture = std::make_shared<annal::testing::command_capture>(
//     std::vector<std::string>{"ledger"});
//   fixture_options o;
//   o.start = false;
//   o.setup = [&](annal::runtime& rt) { rt.set_forwarder(capture); return rt.add_process_manager(pm); };
//   runtime_fixture fx{o};
//   annal::testing::append_given<account>(fx.rt(), "7", {opened{"ann"}});
//   fx->start();
//   REQUIRE(capture->wait_for(1));
//   auto cmd = capture->decode<ledger>(capture->commands()[0]);
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "annal/runtime.hpp"
#include "annal/testing/detail/encode_events.hpp"

namespace annal::testing {

/// A command_forwarder that captures the commands of the given categories (and answers
/// them itself); other categories run on their aggregates as usual. Install it with
/// runtime::set_forwarder before start(). Thread safety: any thread.
class command_capture final : public command_forwarder {
public:
  explicit command_capture(std::vector<std::string> categories);

  /// Answers commands of `category` with `reply(cmd)` (default: a success at version 1).
  void reply_with(const std::string& category,
                  std::function<command_result(const forwarded_command&)> reply);

  /// The commands captured so far, in the order they were sent.
  std::vector<forwarded_command> commands() const;
  /// Their command ids, in order.
  std::vector<std::string> command_ids() const;
  /// Waits until at least `n` commands were captured (false after `timeout`).
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  /// Forgets the captured commands (replies stay scripted).
  void clear();

  /// Decodes a captured command as A's command. Errors: bad_request when its category
  /// is not A's, those of from_bytes.
  template <class A>
  static result<typename A::command> decode(const forwarded_command& cmd) {
    if (cmd.category != aggregate_traits<A>::category())
      return make_error(errc::bad_request, "a command of " + cmd.category + ", not of "
                                             + std::string{aggregate_traits<A>::category()});
    return from_bytes<typename A::command>(cmd.command_bytes);
  }

  bool is_remote(std::string_view stream_id) const override;
  void forward(forwarded_command cmd, std::function<void(command_result)> done) override;

private:
  std::vector<std::string> categories_;
  mutable std::mutex mx_;
  mutable std::condition_variable cv_;
  std::vector<forwarded_command> captured_;
  std::map<std::string, std::function<command_result(const forwarded_command&)>> replies_;
};

/// A durable timer a process manager scheduled and that has not fired yet.
struct scheduled_timer {
  timestamp_ns due = 0;
  /// The timer's stored key (it names the manager and the key given to schedule()).
  std::string key;
  stored_command command;
};

/// The timers waiting in `rt`'s store, soonest first. Errors: those of the store.
result<std::vector<scheduled_timer>> scheduled_timers(runtime& rt);

/// Appends events of instance `id` of A straight to `rt`'s journal (expected: any), as
/// the given events of a spec: call it before start() so that projections and process
/// managers read them when they catch up. Errors: those of event_store::append.
template <class A>
result<append_result> append_given(runtime& rt, const std::string& id,
                                   const std::vector<typename A::event>& events) {
  auto out = detail::encode_events<A>(events);
  if (!out)
    return std::move(out).error();
  return rt.store().append(aggregate_traits<A>::stream_id(id), expected_version::any(),
                           std::move(*out));
}

} // namespace annal::testing
