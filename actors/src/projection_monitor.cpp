#include "annal/projection_monitor.hpp"

#include <utility>

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

projection_monitor::wait_ticket projection_monitor::notify_when(global_position position,
                                                                std::function<void(bool)> done) {
  bool reached = false;
  {
    std::lock_guard<std::mutex> guard{mx_};
    auto s = state();
    reached = position_.load(std::memory_order_acquire) >= position;
    if (!reached && s != projection_state::faulted && s != projection_state::stopped) {
      auto ticket = next_ticket_++;
      auto at = waiters_.emplace(position, waiter{ticket, std::move(done)});
      tickets_.emplace(ticket, at);
      return ticket;
    }
  }
  done(reached);
  return 0;
}

bool projection_monitor::cancel(wait_ticket ticket) {
  std::lock_guard<std::mutex> guard{mx_};
  auto i = tickets_.find(ticket);
  if (i == tickets_.end())
    return false;
  waiters_.erase(i->second);
  tickets_.erase(i);
  return true;
}

std::vector<std::pair<std::function<void(bool)>, bool>> projection_monitor::take_decided_locked() {
  std::vector<std::pair<std::function<void(bool)>, bool>> out;
  auto s = state();
  if (s == projection_state::faulted || s == projection_state::stopped) {
    auto position = position_.load(std::memory_order_acquire);
    for (auto& [at, w] : waiters_)
      out.emplace_back(std::move(w.done), at <= position);
    waiters_.clear();
    tickets_.clear();
    return out;
  }
  auto end = waiters_.upper_bound(position_.load(std::memory_order_acquire));
  for (auto i = waiters_.begin(); i != end; ++i) {
    out.emplace_back(std::move(i->second.done), true);
    tickets_.erase(i->second.ticket);
  }
  waiters_.erase(waiters_.begin(), end);
  return out;
}

void projection_monitor::run(std::vector<std::pair<std::function<void(bool)>, bool>> decided) {
  // Unlocked: a callback may register or cancel another wait.
  for (auto& [done, reached] : decided)
    done(reached);
}

void projection_monitor::advance(global_position position) {
  std::vector<std::pair<std::function<void(bool)>, bool>> decided;
  {
    std::lock_guard<std::mutex> guard{mx_};
    position_.store(position, std::memory_order_release);
    if (!waiters_.empty())
      decided = take_decided_locked();
  }
  cv_.notify_all();
  run(std::move(decided));
}

void projection_monitor::set_state(projection_state s) {
  std::vector<std::pair<std::function<void(bool)>, bool>> decided;
  {
    std::lock_guard<std::mutex> guard{mx_};
    state_.store(static_cast<uint8_t>(s), std::memory_order_release);
    if (s != projection_state::faulted) {
      faulted_at_ = 0;
      error_.clear();
    }
    if (!waiters_.empty())
      decided = take_decided_locked();
  }
  cv_.notify_all();
  run(std::move(decided));
}

void projection_monitor::set_fault(global_position at, std::string error) {
  std::vector<std::pair<std::function<void(bool)>, bool>> decided;
  {
    std::lock_guard<std::mutex> guard{mx_};
    faulted_at_ = at;
    error_ = std::move(error);
    state_.store(static_cast<uint8_t>(projection_state::faulted), std::memory_order_release);
    decided = take_decided_locked();
  }
  cv_.notify_all();
  run(std::move(decided));
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

namespace {

// The shared state of one notify_when_all wait.
struct all_state {
  std::vector<std::shared_ptr<projection_monitor>> monitors;
  std::function<void(std::optional<std::size_t>)> done;
  std::atomic<std::size_t> left{0};
  std::atomic<bool> decided{false};
  std::mutex mx; // guards tickets
  std::vector<projection_monitor::wait_ticket> tickets;
};

// Cancels the waits still registered, so that no monitor keeps the state (and through
// `done`, the caller's objects) alive once the wait is decided: the caller usually holds
// the cancel function, which holds the state, whose `done` holds the caller.
void release(all_state& st) {
  std::vector<std::pair<projection_monitor*, projection_monitor::wait_ticket>> pending;
  {
    std::lock_guard<std::mutex> guard{st.mx};
    for (std::size_t i = 0; i < st.tickets.size(); ++i)
      if (st.tickets[i] != 0)
        pending.emplace_back(st.monitors[i].get(), std::exchange(st.tickets[i], 0));
  }
  for (auto& [monitor, ticket] : pending)
    monitor->cancel(ticket);
  st.done = nullptr; // only the thread that decided gets here
}

// Decides the wait once: `done(outcome)` runs, then nothing of the caller is held.
void finish(const std::shared_ptr<all_state>& st, std::optional<std::size_t> outcome) {
  if (st->decided.exchange(true))
    return;
  auto done = std::move(st->done);
  release(*st);
  done(outcome);
}

} // namespace

std::function<bool()> notify_when_all(std::vector<std::shared_ptr<projection_monitor>> monitors,
                                      global_position position,
                                      std::function<void(std::optional<std::size_t>)> done) {
  auto st = std::make_shared<all_state>();
  st->monitors = std::move(monitors);
  st->done = std::move(done);
  st->left = st->monitors.size();
  st->tickets.resize(st->monitors.size(), 0);
  if (st->monitors.empty()) {
    finish(st, std::nullopt);
    return [] { return false; };
  }
  for (std::size_t i = 0; i < st->monitors.size() && !st->decided; ++i) {
    auto ticket = st->monitors[i]->notify_when(position, [st, i](bool reached) {
      if (!reached)
        finish(st, i);
      else if (st->left.fetch_sub(1) == 1)
        finish(st, std::nullopt);
    });
    bool late = false;
    {
      std::lock_guard<std::mutex> guard{st->mx};
      late = st->decided; // decided meanwhile: release() has run and will not see this one
      if (!late)
        st->tickets[i] = ticket;
    }
    if (late && ticket != 0)
      st->monitors[i]->cancel(ticket);
  }
  return [st] {
    if (st->decided.exchange(true))
      return false;
    release(*st);
    return true;
  };
}

} // namespace annal
