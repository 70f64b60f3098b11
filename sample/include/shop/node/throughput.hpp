// Throughput over the last minutes, for the page's plot: once per interval, commands/s,
// events/s, group commits/s, events per group commit and the commit time (the journal's
// write transaction and its fsync, timed by the writer's hooks), kept for `keep` samples.
//
// Thread safety: commit_timer's hooks run on the writer's thread; everything else is safe
// from any thread.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

#include "annal/journal_writer.hpp"

namespace annal {
class runtime;
}

namespace shop::node {

class node_metrics;

/// Times every group commit, from the writer's before_commit hook to its after_commit hook.
class commit_timer {
public:
  /// Chains its hooks after those already in `w`. Call before runtime::open; the timer
  /// must outlive the runtime.
  void install(annal::journal_writer_options& w);

  /// Commits timed so far and their total time (ns).
  uint64_t commits() const noexcept { return commits_.load(std::memory_order_relaxed); }
  uint64_t total_ns() const noexcept { return total_ns_.load(std::memory_order_relaxed); }
  /// The longest commit since the previous call (ns), and resets it.
  uint64_t take_max_ns() noexcept { return max_ns_.exchange(0, std::memory_order_relaxed); }

private:
  std::chrono::steady_clock::time_point started_; // writer thread only
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> total_ns_{0};
  std::atomic<uint64_t> max_ns_{0};
};

/// One interval's rates.
struct throughput_sample {
  int64_t unix_ms = 0;
  double commands_per_s = 0;
  double events_per_s = 0;
  double commits_per_s = 0;
  /// Events per group commit (0 when no commit).
  double batch_events = 0;
  /// Mean and longest commit time (write transaction + fsync), ms.
  double commit_ms = 0;
  double commit_max_ms = 0;
};

class throughput_sampler {
public:
  /// Samples `rt`, `metrics` and `timer` (which outlive it) every `interval`.
  throughput_sampler(annal::runtime& rt, const node_metrics& metrics, commit_timer& timer,
                     std::chrono::milliseconds interval = std::chrono::seconds(1),
                     std::size_t keep = 600);
  /// Stops the sampling thread.
  ~throughput_sampler();
  throughput_sampler(const throughput_sampler&) = delete;
  throughput_sampler& operator=(const throughput_sampler&) = delete;

  /// {"interval_ms", "samples":[{"t","commands_per_s","events_per_s","commits_per_s",
  /// "batch_events","commit_ms","commit_max_ms"}]}: the samples taken after `after_ms`
  /// (Unix time, ms), oldest first.
  nlohmann::json samples_after(int64_t after_ms) const;

  /// Takes one sample now (the thread does this every interval).
  void sample();

private:
  void run();

  annal::runtime& rt_;
  const node_metrics& metrics_;
  commit_timer& timer_;
  std::chrono::milliseconds interval_;
  std::size_t keep_;
  mutable std::mutex mx_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::deque<throughput_sample> samples_;
  // The counters at the previous sample.
  std::chrono::steady_clock::time_point last_at_;
  uint64_t last_commands_ = 0, last_events_ = 0, last_commits_ = 0, last_timed_ = 0, last_ns_ = 0;
  std::thread thread_;
};

} // namespace shop::node
