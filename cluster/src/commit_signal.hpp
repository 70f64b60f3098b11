// Internal: who wants to hear that this node's journal committed. Fired by the cluster's
// commit watcher (a memory projection on every event, registered at join) on its actor's
// thread; listeners set a flag or send one message, nothing longer.
//
// Thread safety: every member from any thread. A listener removed by unlisten() is not
// called after unlisten() returns. A listener must not call listen or unlisten.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace annal::cluster::detail {

class commit_signal {
public:
  /// Adds `fn`; returns the id unlisten() takes.
  uint64_t listen(std::function<void()> fn) {
    std::lock_guard<std::mutex> lock{mx_};
    fns_.emplace(next_, std::move(fn));
    return next_++;
  }

  void unlisten(uint64_t id) {
    std::lock_guard<std::mutex> lock{mx_};
    fns_.erase(id);
  }

  /// Calls every listener.
  void fire() {
    std::lock_guard<std::mutex> lock{mx_};
    for (auto& [id, fn] : fns_)
      fn();
  }

private:
  std::mutex mx_;
  std::map<uint64_t, std::function<void()>> fns_;
  uint64_t next_ = 0;
};

} // namespace annal::cluster::detail
