#include "annal/fault_points.hpp"

#include <atomic>

namespace annal::testing {

namespace {
std::atomic<fault_observer> observer{nullptr};
}

void set_fault_observer(fault_observer fn) noexcept {
  observer.store(fn, std::memory_order_release);
}

void reach(fault_point point, std::string_view where) noexcept {
  if (auto fn = observer.load(std::memory_order_acquire))
    fn(point, where);
}

} // namespace annal::testing
