// Timing and summary statistics for benchmark rounds: a monotonic stopwatch and the
// median / min / max of a set of per-round figures.
//
// Figures are summarized by their median because the machines we measure on are small
// and noisy (2 cores shared with the OS): one disturbed round should not move the result.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace annal::bench {

using bench_clock = std::chrono::steady_clock;

/// Seconds elapsed since `start` on the monotonic clock.
inline double seconds_since(bench_clock::time_point start) {
  return std::chrono::duration<double>(bench_clock::now() - start).count();
}

/// The median of `xs` (the mean of the two middle values for an even count; 0 if empty).
inline double median(std::vector<double> xs) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto n = xs.size();
  return n % 2 == 1 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
}

/// The q-quantile of `xs` (nearest rank, q in [0, 1]; 0 if empty).
inline double quantile(std::vector<double> xs, double q) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto i = static_cast<std::size_t>(q * static_cast<double>(xs.size() - 1) + 0.5);
  return xs[std::min(i, xs.size() - 1)];
}

inline double min_of(const std::vector<double>& xs) {
  return xs.empty() ? 0 : *std::min_element(xs.begin(), xs.end());
}

inline double max_of(const std::vector<double>& xs) {
  return xs.empty() ? 0 : *std::max_element(xs.begin(), xs.end());
}

} // namespace annal::bench
