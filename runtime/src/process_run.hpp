// Internal: the handling of one event by a process manager — its handler, the replies it
// waits for and the continuations they run — and the mailbox through which replies reach
// the manager's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "annal/process_manager.hpp"

namespace annal::detail {

/// Replies to the commands of a batch, posted from actor threads and taken by the
/// manager's thread. Shared with the reply callbacks, so a reply arriving after its batch
/// was given up is dropped harmlessly. Thread safety: post from any thread, take from one.
class batch_mailbox {
public:
  struct message {
    std::size_t run = 0;
    std::size_t slot = 0;
    command_result result;
  };

  void post(message m);
  /// Calls `fn` (from the posting thread) whenever a post finds the mailbox empty: the
  /// manager's actor is told to take the replies when nobody waits for them.
  void on_first_post(std::function<void()> fn);
  /// Moves every posted message to `out`, waiting up to `timeout` for the first; false when
  /// none came in time.
  bool take(std::deque<message>& out, std::chrono::milliseconds timeout);

private:
  std::mutex mx_;
  std::condition_variable cv_;
  std::deque<message> queue_;
  std::function<void()> on_first_post_;
};

/// A continuation waiting for the outcomes of some commands of its event.
struct pending_continuation {
  std::vector<std::size_t> slots;
  reply_continuation one;    // set for then(reply_ref, ...)
  replies_continuation many; // set for then(std::vector<reply_ref>, ...)
  std::string scope;
};

/// One event being handled. Lives on the manager's thread for the duration of a batch.
struct event_run {
  runtime* rt = nullptr;
  const std::string* manager = nullptr;
  const event_view* event = nullptr;
  table_id state_table = 0;
  /// Index of the event in its batch (the reply callbacks carry it).
  std::size_t index = 0;
  std::shared_ptr<batch_mailbox> mailbox;
  process_context::staged staged;
  /// The staged writes of the earlier events of the same instance in this batch.
  const process_context::staged* earlier = nullptr;
  std::vector<std::optional<command_result>> replies;
  std::vector<bool> taken; // the outcome is some continuation's
  std::vector<pending_continuation> waiting;
  std::size_t outstanding = 0;
  std::optional<error> failure;
  bool started = false;

  /// Runs the handler. Afterwards (and after each deliver) done() says whether the event is
  /// handled; failure says whether it failed.
  void start(const process_handler& handler);
  /// Takes the outcome of the command in `slot` and runs the continuations it completes.
  void deliver(std::size_t slot, command_result result);
  /// True once no reply is outstanding and no continuation can run any more.
  bool done() const noexcept { return started && outstanding == 0 && waiting.empty(); }

private:
  void run_ready();
  void fail(error e);
  void check_untaken();
};

} // namespace annal::detail
