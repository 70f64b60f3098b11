// CPU time of this process (Linux, getrusage), for benchmarks' CPU-per-operation figures.
#pragma once

#include <sys/resource.h>

namespace annal::bench {

/// User plus system CPU-seconds this process has used so far (all threads).
inline double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

} // namespace annal::bench
