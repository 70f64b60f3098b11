// A fixed set of detached actors (own threads) that run rehydrations, so that replaying a
// long stream never blocks CAF's scheduler threads and a restart storm is bounded: at most
// `permits` recoveries run at once; the rest wait their turn.
#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <atomic>
#include <functional>
#include <vector>

namespace annal {

/// Thread safety: submit() may be called from any thread or actor.
class loader_pool {
public:
  /// Spawns `permits` (>= 1) detached workers in `sys`.
  loader_pool(caf::actor_system& sys, std::size_t permits);
  ~loader_pool();
  loader_pool(const loader_pool&) = delete;
  loader_pool& operator=(const loader_pool&) = delete;

  /// Queues `job` on the next worker (round robin). The job must not throw.
  void submit(std::function<void()> job);

  /// Stops the workers after the jobs already queued.
  void stop();

private:
  std::vector<caf::actor> workers_;
  std::atomic<std::size_t> next_{0};
};

} // namespace annal
