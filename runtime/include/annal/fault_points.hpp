// Fault points: the places in process managers and timers where a crash must be survivable
// (a command answered but its continuation not run yet; a batch committed; a timer's
// command answered but its row not deleted yet). Crash tests install an observer that
// stops the process exactly there; nothing installs one in production, where reaching a
// point costs one atomic load.
#pragma once

#include <string_view>

namespace annal::testing {

/// Where a process manager or the timer service stands.
enum class fault_point {
  /// A command's outcome reached the process manager; its continuation has not run.
  command_answered,
  /// A batch's staged state, timers and checkpoint were committed.
  batch_committed,
  /// A fired timer's command was answered; its row is not deleted yet.
  timer_answered,
};

/// Called at each fault point with the manager's name (or "annal.timers"), on the thread
/// of that manager or of the timer service. It may block or end the process.
using fault_observer = void (*)(fault_point point, std::string_view where);

/// Installs `fn` (nullptr: none). Install before the runtime starts.
void set_fault_observer(fault_observer fn) noexcept;

/// Reports reaching `point` to the observer, if any (used by the runtime).
void reach(fault_point point, std::string_view where) noexcept;

} // namespace annal::testing
