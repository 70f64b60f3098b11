// Internal: waiting, without blocking a thread, until several projections reached a
// position (a shard move waits so for the old owner's process managers).
#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "annal/projection_monitor.hpp"
#include "annal/result.hpp"

namespace annal::detail {

/// A projection to wait for, by name (for the error) and monitor.
using named_monitor = std::pair<std::string, std::shared_ptr<projection_monitor>>;

/// Runs `done` once, on an actor of `sys`, when every monitor of `monitors` reached
/// `position` (success; at once when there are none), one of them faulted or stopped first
/// (unavailable, naming it), or `timeout` passed (timeout, naming those behind). Returns
/// the waiting actor (none when there was nothing to wait for): stopping it drops `done`.
caf::actor await_monitors(caf::actor_system& sys, std::vector<named_monitor> monitors, global_position position,
                          std::chrono::milliseconds timeout, std::function<void(status)> done);

} // namespace annal::detail
