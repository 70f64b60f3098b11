// Internal: places in the journal where crash tests stop the process with SIGKILL. A test
// sets ANNAL_JOURNAL_CRASH_AT=<name>[:<n>] in a child process: the n-th time (default 1)
// that point is reached, the process kills itself. Unset (production), reaching a point
// costs one load of a cached pointer.
#pragma once

namespace annal::detail {

/// Kills the process with SIGKILL when ANNAL_JOURNAL_CRASH_AT names `name` (see above).
void crash_point(const char* name) noexcept;

} // namespace annal::detail
