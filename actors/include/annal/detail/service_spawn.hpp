// Internal: how the runtime's services (journal writer, loader workers, projections,
// process managers, timers) are spawned. They block on I/O, so they get threads of their
// own — except on CAF's test coordinator, where a test steps every actor on its own thread
// and a detached actor would run outside its control (and race with it).
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/spawn_options.hpp>

#include <utility>

namespace caf::scheduler {
class test_coordinator;
}

namespace annal::detail {

/// The test coordinator `sys` runs on (`scheduler.policy = testing`), or nullptr when it
/// runs threads.
caf::scheduler::test_coordinator* test_coordinator_of(caf::actor_system& sys) noexcept;

/// True when `sys` runs on CAF's test coordinator (`scheduler.policy = testing`): nothing
/// runs unless a test steps it, and the runtime's services are spawned scheduled.
inline bool runs_deterministically(caf::actor_system& sys) noexcept {
  return test_coordinator_of(sys) != nullptr;
}

/// Spawns the service `fn(self, xs...)`: detached (its own thread), or scheduled when
/// `sys` runs deterministically.
template <class F, class... Ts>
caf::actor spawn_service(caf::actor_system& sys, F fn, Ts&&... xs) {
  if (runs_deterministically(sys))
    return sys.spawn(fn, std::forward<Ts>(xs)...);
  return sys.spawn<caf::detached>(fn, std::forward<Ts>(xs)...);
}

} // namespace annal::detail
