#include "shop/node/throughput.hpp"

#include "annal/runtime.hpp"
#include "shop/node/metrics.hpp"

namespace shop::node {

void commit_timer::install(annal::journal_writer_options& w) {
  auto before = std::move(w.before_commit);
  auto after = std::move(w.after_commit);
  w.before_commit = [this, before](const annal::write_batch& batch) -> annal::status {
    if (before)
      if (auto ok = before(batch); !ok)
        return ok;
    started_ = std::chrono::steady_clock::now(); // the store's commit follows at once
    return {};
  };
  w.after_commit = [this, after](annal::global_position p) {
    auto ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                      std::chrono::steady_clock::now() - started_)
                                      .count());
    total_ns_.fetch_add(ns, std::memory_order_relaxed);
    commits_.fetch_add(1, std::memory_order_relaxed);
    auto max = max_ns_.load(std::memory_order_relaxed);
    while (ns > max && !max_ns_.compare_exchange_weak(max, ns, std::memory_order_relaxed)) {
    }
    if (after)
      after(p);
  };
}

throughput_sampler::throughput_sampler(annal::runtime& rt, const node_metrics& metrics,
                                       commit_timer& timer, std::chrono::milliseconds interval,
                                       std::size_t keep)
  : rt_(rt), metrics_(metrics), timer_(timer), interval_(interval), keep_(keep) {
  last_at_ = std::chrono::steady_clock::now();
  last_commands_ = metrics_.commands_total();
  last_events_ = rt_.metrics().events_written.load();
  last_commits_ = rt_.metrics().commits.load();
  last_timed_ = timer_.commits();
  last_ns_ = timer_.total_ns();
  timer_.take_max_ns();
  thread_ = std::thread{[this] { run(); }};
}

throughput_sampler::~throughput_sampler() {
  {
    std::lock_guard<std::mutex> guard{mx_};
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void throughput_sampler::run() {
  std::unique_lock<std::mutex> lock{mx_};
  auto next = std::chrono::steady_clock::now() + interval_;
  while (!stop_) {
    if (wake_.wait_until(lock, next, [this] { return stop_; }))
      return;
    lock.unlock();
    sample();
    lock.lock();
    next += interval_;
  }
}

void throughput_sampler::sample() {
  auto now = std::chrono::steady_clock::now();
  auto commands = metrics_.commands_total();
  auto events = rt_.metrics().events_written.load();
  auto commits = rt_.metrics().commits.load();
  auto timed = timer_.commits();
  auto ns = timer_.total_ns();
  auto max_ns = timer_.take_max_ns();
  std::lock_guard<std::mutex> guard{mx_};
  double seconds = std::chrono::duration<double>(now - last_at_).count();
  if (seconds <= 0)
    return;
  throughput_sample s;
  s.unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  s.commands_per_s = static_cast<double>(commands - last_commands_) / seconds;
  s.events_per_s = static_cast<double>(events - last_events_) / seconds;
  s.commits_per_s = static_cast<double>(commits - last_commits_) / seconds;
  if (commits > last_commits_)
    s.batch_events = static_cast<double>(events - last_events_) / static_cast<double>(commits - last_commits_);
  if (timed > last_timed_)
    s.commit_ms = static_cast<double>(ns - last_ns_) / static_cast<double>(timed - last_timed_) / 1e6;
  s.commit_max_ms = static_cast<double>(max_ns) / 1e6;
  last_at_ = now;
  last_commands_ = commands;
  last_events_ = events;
  last_commits_ = commits;
  last_timed_ = timed;
  last_ns_ = ns;
  samples_.push_back(s);
  while (samples_.size() > keep_)
    samples_.pop_front();
}

nlohmann::json throughput_sampler::samples_after(int64_t after_ms) const {
  auto list = nlohmann::json::array();
  std::lock_guard<std::mutex> guard{mx_};
  for (const auto& s : samples_) {
    if (s.unix_ms <= after_ms)
      continue;
    list.push_back({{"t", s.unix_ms},
                    {"commands_per_s", s.commands_per_s},
                    {"events_per_s", s.events_per_s},
                    {"commits_per_s", s.commits_per_s},
                    {"batch_events", s.batch_events},
                    {"commit_ms", s.commit_ms},
                    {"commit_max_ms", s.commit_max_ms}});
  }
  return {{"interval_ms", interval_.count()}, {"samples", std::move(list)}};
}

} // namespace shop::node
