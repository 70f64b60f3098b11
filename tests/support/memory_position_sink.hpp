// A base for test sinks (projection_sink) that keep their position in memory, locked: the
// runtime's start() and the projection's actor both touch it. Subclasses apply events and
// set position_ under mx_; reset() forgets the position; parking does nothing.
#pragma once

#include <mutex>
#include <optional>

#include "annal/projection.hpp"

namespace annal::test {

class memory_position_sink : public projection_sink {
public:
  result<std::optional<global_position>> stored_position() override {
    std::lock_guard<std::mutex> lock{mx_};
    return position_;
  }
  status store_position(global_position position) override {
    std::lock_guard<std::mutex> lock{mx_};
    position_ = position;
    return {};
  }
  status reset() override {
    std::lock_guard<std::mutex> lock{mx_};
    position_.reset();
    return {};
  }
  status park(global_position, const error&) override { return {}; }

protected:
  std::mutex mx_;
  std::optional<global_position> position_;
};

} // namespace annal::test
