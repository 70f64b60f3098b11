#include "human_format.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace annal::cli {

std::string format_time(int64_t ns, int digits) {
  if (ns == 0)
    return "-";
  auto secs = static_cast<std::time_t>(ns / 1'000'000'000);
  auto micros = (ns % 1'000'000'000) / 1000;
  if (micros < 0) {
    secs -= 1;
    micros += 1'000'000;
  }
  std::tm tm{};
  if (::gmtime_r(&secs, &tm) == nullptr)
    return std::to_string(ns);
  char buf[48];
  if (digits == 3)
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(micros / 1000));
  else
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(micros));
  return buf;
}

std::string format_bytes(uint64_t bytes) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024)
    return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 5) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f %s", v, units[unit]);
  return buf;
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0)
    return "?";
  char buf[32];
  if (seconds < 10)
    std::snprintf(buf, sizeof(buf), "%.1fs", seconds);
  else if (seconds < 60)
    std::snprintf(buf, sizeof(buf), "%.0fs", seconds);
  else if (seconds < 3600)
    std::snprintf(buf, sizeof(buf), "%dm%02ds", static_cast<int>(seconds) / 60,
                  static_cast<int>(seconds) % 60);
  else
    std::snprintf(buf, sizeof(buf), "%dh%02dm", static_cast<int>(seconds) / 3600,
                  static_cast<int>(seconds) / 60 % 60);
  return buf;
}

} // namespace annal::cli
