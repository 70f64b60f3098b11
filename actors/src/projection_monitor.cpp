#include "annal/projection_monitor.hpp"

namespace annal {

const char* to_string(projection_state s) noexcept {
  switch (s) {
    case projection_state::catching_up: return "catching_up";
    case projection_state::live: return "live";
    case projection_state::faulted: return "faulted";
    case projection_state::rebuilding: return "rebuilding";
    case projection_state::stopped: return "stopped";
  }
  return "?";
}

projection_monitor::projection_monitor(std::string name) : name_(std::move(name)) {}

projection_state projection_monitor::state() const noexcept {
  return static_cast<projection_state>(state_.load(std::memory_order_acquire));
}

bool projection_monitor::wait_for(global_position position, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock{mx_};
  return cv_.wait_for(lock, timeout, [&] {
    auto s = state();
    return position_.load(std::memory_order_acquire) >= position || s == projection_state::faulted
           || s == projection_state::stopped;
  }) && position_.load(std::memory_order_acquire) >= position;
}

projection_info projection_monitor::info(global_position journal_head,
                                         timestamp_ns oldest_unapplied) const {
  projection_info out;
  out.name = name_;
  out.state = state();
  out.position = position();
  out.lag_events = journal_head > out.position ? journal_head - out.position : 0;
  auto now = now_ns();
  if (out.lag_events > 0 && oldest_unapplied > 0 && now > oldest_unapplied)
    out.lag_ms = static_cast<double>(now - oldest_unapplied) / 1e6;
  out.rebuild_done = rebuild_done_.load();
  out.rebuild_total = rebuild_total_.load();
  out.parked = parked_.load();
  std::lock_guard<std::mutex> guard{mx_};
  out.faulted_at = faulted_at_;
  out.error = error_;
  return out;
}

void projection_monitor::advance(global_position position) {
  {
    std::lock_guard<std::mutex> guard{mx_};
    position_.store(position, std::memory_order_release);
  }
  cv_.notify_all();
}

void projection_monitor::set_state(projection_state s) {
  {
    std::lock_guard<std::mutex> guard{mx_};
    state_.store(static_cast<uint8_t>(s), std::memory_order_release);
    if (s != projection_state::faulted) {
      faulted_at_ = 0;
      error_.clear();
    }
  }
  cv_.notify_all();
}

void projection_monitor::set_fault(global_position at, std::string error) {
  {
    std::lock_guard<std::mutex> guard{mx_};
    faulted_at_ = at;
    error_ = std::move(error);
    state_.store(static_cast<uint8_t>(projection_state::faulted), std::memory_order_release);
  }
  cv_.notify_all();
}

void projection_monitor::set_retrying(global_position at, std::string error) {
  {
    std::lock_guard<std::mutex> guard{mx_};
    faulted_at_ = at;
    error_ = std::move(error);
    if (state() != projection_state::rebuilding)
      state_.store(static_cast<uint8_t>(projection_state::catching_up), std::memory_order_release);
  }
  cv_.notify_all();
}

void projection_monitor::set_rebuild_progress(uint64_t done, uint64_t total) {
  rebuild_done_ = done;
  rebuild_total_ = total;
}

void projection_monitor::add_parked() {
  ++parked_;
}

void projection_monitor::reset_position() {
  std::lock_guard<std::mutex> guard{mx_};
  position_.store(0, std::memory_order_release);
}

} // namespace annal
