#include "annal/detail/service_spawn.hpp"

#include <caf/scheduler/test_coordinator.hpp>

namespace annal::detail {

bool runs_deterministically(caf::actor_system& sys) noexcept {
  return dynamic_cast<caf::scheduler::test_coordinator*>(&sys.scheduler()) != nullptr;
}

} // namespace annal::detail
