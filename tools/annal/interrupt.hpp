// Ctrl-C (SIGINT) and SIGTERM as a polite request to stop, for commands that run until
// interrupted (tail) or for a long time (rebuild).
#pragma once

#include <chrono>

namespace annal::cli {

/// Installs the handlers; afterwards the signals only set a flag.
void catch_interrupts();

/// True once SIGINT or SIGTERM arrived.
bool interrupted() noexcept;

/// Sleeps up to `d`, returning early (true) when interrupted.
bool sleep_unless_interrupted(std::chrono::milliseconds d);

} // namespace annal::cli
