#include "annal/detail/service_spawn.hpp"

#include <caf/scheduler/test_coordinator.hpp>

namespace annal::detail {

caf::scheduler::test_coordinator* test_coordinator_of(caf::actor_system& sys) noexcept {
  return dynamic_cast<caf::scheduler::test_coordinator*>(&sys.scheduler());
}

} // namespace annal::detail
