#include "annal/duration_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace annal {

void duration_histogram::record(std::chrono::nanoseconds d) noexcept {
  auto ns = std::max<int64_t>(0, d.count());
  auto us = static_cast<uint64_t>((ns + 999) / 1000); // a bound holds durations up to it
  auto bucket = static_cast<std::size_t>(std::lower_bound(bounds_us.begin(), bounds_us.end(), us)
                                         - bounds_us.begin());
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

duration_histogram::counts duration_histogram::read() const noexcept {
  counts out;
  for (std::size_t i = 0; i < buckets_.size(); ++i)
    out.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
  out.count = count_.load(std::memory_order_relaxed);
  out.sum = std::chrono::nanoseconds{sum_ns_.load(std::memory_order_relaxed)};
  return out;
}

std::chrono::microseconds duration_histogram::counts::quantile(double q) const noexcept {
  uint64_t total = 0;
  for (auto n : buckets)
    total += n;
  if (total == 0)
    return std::chrono::microseconds{0};
  double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(total);
  double below = 0;
  for (std::size_t i = 0; i < bounds_us.size(); ++i) {
    auto n = static_cast<double>(buckets[i]);
    if (n > 0 && below + n >= rank) {
      double lower = i == 0 ? 0.0 : static_cast<double>(bounds_us[i - 1]);
      double upper = static_cast<double>(bounds_us[i]);
      double at = lower + (upper - lower) * (rank - below) / n;
      return std::chrono::microseconds{static_cast<int64_t>(std::llround(at))};
    }
    below += n;
  }
  return std::chrono::microseconds{static_cast<int64_t>(bounds_us.back())};
}

duration_histogram::counts duration_histogram::counts::since(const counts& earlier) const noexcept {
  counts out;
  for (std::size_t i = 0; i < buckets.size(); ++i)
    out.buckets[i] = buckets[i] - std::min(buckets[i], earlier.buckets[i]);
  out.count = count - std::min(count, earlier.count);
  out.sum = sum - std::min(sum, earlier.sum);
  return out;
}

} // namespace annal
