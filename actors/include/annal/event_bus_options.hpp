// Bounds of the event bus (annal/event_bus.hpp), apart from it so that a runtime's settings
// can name them without including CAF.
#pragma once

#include <cstddef>

namespace annal {

struct event_bus_options {
  /// Events buffered for one subscriber that is still catching up.
  std::size_t max_buffered_events = 200000;
  /// Events delivered to one live subscriber and not yet acknowledged.
  std::size_t max_unacked_events = 200000;
};

} // namespace annal
