// Durations counted in fixed buckets, for metrics: how long the journal's group commits
// and the read models' commits take (write transaction and sync). A commit's duration is
// what tells a slow disk from a busy process, and the two environments' syncs compete for
// the same disk (docs/architecture.md, "Commit durations").
//
// Thread safety: record() and read() may be called from any thread at any time; a read
// racing with records may see a record's bucket before its sum (metrics, not accounting).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace annal {

class duration_histogram {
public:
  /// Upper bounds of the buckets (inclusive), in microseconds: 1-2-5 steps from 10 µs to
  /// 10 s. Durations beyond the last bound go to one more bucket (Prometheus' +Inf).
  static constexpr std::array<uint64_t, 19> bounds_us = {
    10,      20,      50,      100,     200,     500,       1'000,     2'000,     5'000,    10'000,
    20'000,  50'000,  100'000, 200'000, 500'000, 1'000'000, 2'000'000, 5'000'000, 10'000'000};

  /// What read() returns: per-bucket counts (not cumulative; the last one is beyond the
  /// last bound), how many durations were recorded and their sum.
  struct counts {
    std::array<uint64_t, bounds_us.size() + 1> buckets{};
    uint64_t count = 0;
    std::chrono::nanoseconds sum{0};

    /// The q-quantile (0 < q <= 1), interpolated linearly inside the bucket that holds it
    /// as Prometheus' histogram_quantile does; the last bound when it lies beyond it;
    /// zero when nothing was recorded.
    std::chrono::microseconds quantile(double q) const noexcept;

    /// The records made between the reading `earlier` and this one (for a window's rate
    /// and quantiles).
    counts since(const counts& earlier) const noexcept;
  };

  /// Counts one duration (negative ones as zero).
  void record(std::chrono::nanoseconds d) noexcept;

  /// The counts so far.
  counts read() const noexcept;

private:
  std::array<std::atomic<uint64_t>, bounds_us.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<int64_t> sum_ns_{0};
};

} // namespace annal
