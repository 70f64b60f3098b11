// The raw fsync probe: what one durable write costs on the disk under a folder, measured
// as pwrite(4 KiB) + fdatasync on a scratch file there. It is the physical floor of a
// durable commit (LMDB syncs twice per commit: the data pages, then the meta page), so
// benchmarks print it first, in the environment line, to put their figures in context.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "stats.hpp"

namespace annal::bench {

/// Result of fsync_probe().
struct fsync_probe_result {
  bool ok = false;
  std::string error;         ///< why the probe failed (when !ok)
  int iterations = 0;        ///< writes measured
  double median_us = 0;      ///< median latency of one pwrite + fdatasync
  double p99_us = 0;         ///< 99th percentile latency
  double per_s = 0;          ///< sustained rate: iterations / total time
};

/// Measures `iterations` rounds of pwrite(4 KiB at offset 0) + fdatasync on a scratch file
/// in `dir` (stopping early after `max_seconds`), after one unmeasured write that
/// allocates the block. The scratch file is removed afterwards.
inline fsync_probe_result fsync_probe(const std::filesystem::path& dir, int iterations = 200,
                                      double max_seconds = 5.0) {
  fsync_probe_result r;
  auto file = dir / "fsync_probe.dat";
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    r.error = "open " + file.string() + ": " + std::strerror(errno);
    return r;
  }
  alignas(4096) static char block[4096];
  auto write_once = [&](int i) -> bool {
    std::memset(block, i & 0xff, sizeof block);
    return ::pwrite(fd, block, sizeof block, 0) == static_cast<ssize_t>(sizeof block)
           && ::fdatasync(fd) == 0;
  };
  if (!write_once(0)) {
    r.error = std::string{"pwrite/fdatasync: "} + std::strerror(errno);
    ::close(fd);
    std::filesystem::remove(file);
    return r;
  }
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(iterations));
  auto start = bench_clock::now();
  for (int i = 1; i <= iterations; ++i) {
    auto t0 = bench_clock::now();
    if (!write_once(i)) {
      r.error = std::string{"pwrite/fdatasync: "} + std::strerror(errno);
      break;
    }
    us.push_back(seconds_since(t0) * 1e6);
    if (seconds_since(start) > max_seconds)
      break;
  }
  double total = seconds_since(start);
  ::close(fd);
  std::error_code ec;
  std::filesystem::remove(file, ec);
  if (us.empty())
    return r;
  r.ok = r.error.empty();
  r.iterations = static_cast<int>(us.size());
  r.median_us = median(us);
  r.p99_us = quantile(us, 0.99);
  r.per_s = static_cast<double>(us.size()) / total;
  return r;
}

} // namespace annal::bench
