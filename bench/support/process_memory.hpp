// Resident memory of this process, from /proc/self/status (Linux).
#pragma once

#include <fstream>
#include <string>

namespace annal::bench {

/// The value in KiB of `field` ("VmRSS", "VmHWM") of /proc/self/status (0 if absent).
inline long proc_status_kib(const std::string& field) {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, field.size() + 1, field + ":") == 0)
      return std::stol(line.substr(field.size() + 1));
  return 0;
}

/// Current resident set size in MiB.
inline double rss_mib() { return static_cast<double>(proc_status_kib("VmRSS")) / 1024.0; }

/// Peak resident set size in MiB.
inline double peak_rss_mib() { return static_cast<double>(proc_status_kib("VmHWM")) / 1024.0; }

} // namespace annal::bench
