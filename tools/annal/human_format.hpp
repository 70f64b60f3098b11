// Renders times, sizes and durations the way an operator reads them.
#pragma once

#include <cstdint>
#include <string>

namespace annal::cli {

/// UTC ISO 8601 with microseconds: "2025-11-26T10:08:00.123456Z" (with `digits` = 3:
/// milliseconds); "-" for 0.
std::string format_time(int64_t ns_since_epoch, int digits = 6);

/// "512 B", "1.5 KiB", "64.0 MiB", ...
std::string format_bytes(uint64_t bytes);

/// "0.4s", "42s", "3m07s", "2h05m".
std::string format_duration(double seconds);

} // namespace annal::cli
