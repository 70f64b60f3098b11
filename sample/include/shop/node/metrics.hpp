// The node's metrics in Prometheus' text format: commands by outcome and their latency,
// HTTP responses by status, and the runtime's own counters (events written, fsync'd group
// commits and how long the journal's and the read models' commits took, projection
// positions and lag).
//
// Thread safety: every member is safe to call from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace annal {
class runtime;
}

namespace shop::node {

class node_metrics {
public:
  /// Upper bounds (seconds) of the command latency histogram's buckets.
  static constexpr std::array<double, 14> latency_buckets = {
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10};

  /// Counts one command of kind `command` ("place_order") that ended with `outcome`
  /// ("ok", "rejected", "version_conflict", ...), and its latency.
  void command_done(const std::string& command, const std::string& outcome,
                    std::chrono::nanoseconds latency);

  /// Commands handled so far, of every kind and outcome.
  uint64_t commands_total() const;

  /// Counts one HTTP response.
  void response_sent(int status);

  /// The exposition text, with the runtime's counters read now.
  std::string render(annal::runtime& rt) const;

private:
  struct histogram {
    std::array<uint64_t, latency_buckets.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mx_;
  std::map<std::pair<std::string, std::string>, uint64_t> commands_;
  std::map<std::string, histogram> latency_;
  std::map<int, uint64_t> responses_;
};

} // namespace shop::node
