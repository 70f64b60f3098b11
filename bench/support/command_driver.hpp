// A closed-loop load generator for the runtime: keeps `in_flight` commands outstanding
// (each reply sends the next command from the reply callback) until `total` completed, and
// records every command's latency.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "annal/runtime.hpp"
#include "support/process_cpu.hpp"
#include "support/stats.hpp"

namespace annal::bench {

/// What one driven run measured.
struct drive_result {
  double seconds = 0;
  std::size_t completed = 0;
  std::size_t errors = 0;
  std::string first_error;
  std::vector<double> latencies_us;
  double cpu_seconds = 0; // of the whole process (every thread) during the run
  double per_s() const { return seconds > 0 ? static_cast<double>(completed) / seconds : 0; }
  /// CPU per command: unlike the rate, it barely depends on what else the machine runs.
  double cpu_us_per_command() const {
    return completed > 0 ? cpu_seconds * 1e6 / static_cast<double>(completed) : 0;
  }
};


/// Picks the aggregate of command `i`: `sequential` walks the ids in order (each touched
/// once per lap), otherwise a fixed pseudo-random id per command. `first` numbers the
/// first command, so that consecutive drives (a growth curve's tenths) continue one
/// sequence instead of touching the same ids again in the same order.
template <class A, class MakeCommand>
class command_driver {
public:
  command_driver(runtime& rt, const std::vector<std::string>& ids, std::size_t in_flight,
                 std::size_t total, MakeCommand make, bool sequential = false, std::size_t first = 0)
    : rt_(rt), ids_(ids), in_flight_(in_flight), total_(total), make_(std::move(make)),
      sequential_(sequential), first_(first), latencies_(total) {}

  drive_result run() {
    auto start = bench_clock::now();
    auto cpu0 = process_cpu_seconds();
    for (std::size_t k = 0; k < in_flight_ && k < total_; ++k)
      issue();
    {
      std::unique_lock<std::mutex> lock{mx_};
      cv_.wait(lock, [&] { return finished_; });
    }
    drive_result out;
    out.seconds = seconds_since(start);
    out.cpu_seconds = process_cpu_seconds() - cpu0;
    out.completed = total_;
    out.errors = errors_.load();
    out.first_error = first_error_;
    out.latencies_us.reserve(total_);
    for (auto x : latencies_)
      out.latencies_us.push_back(x);
    return out;
  }

private:
  static uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  }

  void issue() {
    auto i = next_.fetch_add(1, std::memory_order_relaxed);
    if (i >= total_)
      return;
    auto n = first_ + i;
    const auto& id = ids_[(sequential_ ? n : mix(n)) % ids_.size()];
    auto t0 = bench_clock::now();
    rt_.send<A>(id, make_(i), command_options{}, [this, i, t0](command_result r) {
      latencies_[i] = static_cast<float>(
        std::chrono::duration<double, std::micro>(bench_clock::now() - t0).count());
      if (!r && errors_.fetch_add(1) == 0)
        first_error_ = r.error().to_string();
      if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == total_) {
        std::lock_guard<std::mutex> guard{mx_};
        finished_ = true;
        cv_.notify_all();
      } else {
        issue();
      }
    });
  }

  runtime& rt_;
  const std::vector<std::string>& ids_;
  std::size_t in_flight_, total_;
  MakeCommand make_;
  bool sequential_;
  std::size_t first_;
  std::vector<float> latencies_;
  std::atomic<std::size_t> next_{0}, done_{0}, errors_{0};
  std::string first_error_;
  std::mutex mx_;
  std::condition_variable cv_;
  bool finished_ = false;
};

} // namespace annal::bench
