// Helpers shared by the write-side tests (tests/actors): a gate that test code and user
// code (deciders, commit hooks) synchronise on, a controllable journal commit hook, and
// small shortcuts around runtime::open and raw stream reads.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "annal/aggregate_traits.hpp"
#include "annal/detail/atoms.hpp"
#include "annal/event_store.hpp"
#include "annal/aggregate_host.hpp"
#include "temp_dir.hpp"

namespace annal::test {

/// A one-shot gate: `wait()` blocks until `open()`; `entered()` tells whether someone
/// reached the gate (wait_entered blocks until then). As a safety net for a test that
/// fails before opening its gate (and would otherwise hang in the runtime's stop()),
/// wait() gives up after 20 s.
class gate {
public:
  void open() {
    std::lock_guard<std::mutex> g{m_};
    open_ = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> g{m_};
    ++entered_;
    cv_.notify_all();
    cv_.wait_for(g, std::chrono::seconds(20), [&] { return open_; });
  }
  /// Blocks until `n` callers reached wait() (or the timeout passed); true on success.
  bool wait_entered(int n = 1, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> g{m_};
    return cv_.wait_for(g, timeout, [&] { return entered_ >= n; });
  }
  int entered() {
    std::lock_guard<std::mutex> g{m_};
    return entered_;
  }

private:
  std::mutex m_;
  std::condition_variable cv_;
  bool open_ = false;
  int entered_ = 0;
};

/// A commit hook the test steers: it can hold commits at a gate, fail them with an
/// error, or slow them down; it counts commits and records the expected versions of the
/// appends it saw.
class commit_control {
public:
  /// The next commit (and every later one until release()) waits at a fresh gate.
  void hold() {
    std::lock_guard<std::mutex> g{m_};
    gate_ = std::make_shared<gate>();
  }
  /// Lets held commits continue; later commits are not held.
  void release() {
    std::shared_ptr<gate> g;
    {
      std::lock_guard<std::mutex> l{m_};
      g = std::move(gate_);
    }
    if (g)
      g->open();
  }
  /// Blocks until a commit waits at the gate set by hold().
  bool wait_held(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::shared_ptr<gate> g;
    {
      std::lock_guard<std::mutex> l{m_};
      g = gate_;
    }
    return g && g->wait_entered(1, timeout);
  }
  /// Commits fail with `code` (nothing is written) until stop_failing().
  void fail_with(errc code) { fail_.store(static_cast<int>(code)); }
  void stop_failing() { fail_.store(0); }
  /// Only the next `n` commits fail with `code` (later ones go through).
  void fail_next(errc code, int n = 1) {
    fail_once_code_.store(static_cast<int>(code));
    fail_once_left_.store(n);
  }
  /// Each commit sleeps this long first (simulating a slow disk).
  void delay(std::chrono::milliseconds d) { delay_ms_.store(d.count()); }

  uint64_t commits_seen() const { return commits_.load(); }
  uint64_t failed_commits() const { return failed_.load(); }
  /// Every append seen by the hook, in order: (stream, expected version, event count).
  struct seen_append {
    std::string stream;
    expected_version expected;
    std::size_t events = 0;
  };
  std::vector<seen_append> appends_seen() {
    std::lock_guard<std::mutex> g{m_};
    return seen_;
  }

  status operator()(const write_batch& batch) {
    std::shared_ptr<gate> g;
    {
      std::lock_guard<std::mutex> l{m_};
      for (const auto& a : batch.appends)
        seen_.push_back({a.stream_id, a.expected, a.events.size()});
      g = gate_;
    }
    ++commits_;
    if (g)
      g->wait();
    if (auto d = delay_ms_.load(); d > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(d));
    if (auto f = fail_.load(); f != 0) {
      ++failed_;
      return make_error(static_cast<errc>(f), "injected commit failure");
    }
    int left = fail_once_left_.load();
    while (left > 0 && !fail_once_left_.compare_exchange_weak(left, left - 1)) {
    }
    if (left > 0) {
      ++failed_;
      return make_error(static_cast<errc>(fail_once_code_.load()), "injected commit failure");
    }
    return {};
  }

  /// A before_commit hook that forwards to `ctl` (which must outlive the runtime).
  static std::function<status(const write_batch&)> hook(const std::shared_ptr<commit_control>& ctl) {
    return [ctl](const write_batch& b) { return (*ctl)(b); };
  }

private:
  std::mutex m_;
  std::shared_ptr<gate> gate_;
  std::atomic<int> fail_{0};
  std::atomic<int> fail_once_code_{0};
  std::atomic<int> fail_once_left_{0};
  std::atomic<int64_t> delay_ms_{0};
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> failed_{0};
  std::vector<seen_append> seen_;
};

/// Opens a runtime over `dir`, registers A with `opts`, and starts it. Aborts the test
/// (via the returned null pointer) when anything fails.
template <class A>
std::unique_ptr<runtime> start_runtime(runtime_config cfg, aggregate_options opts = {}) {
  auto rt = runtime::open(std::move(cfg));
  if (!rt)
    return nullptr;
  auto p = std::move(*rt);
  if (!p->template register_aggregate<A>(opts))
    return nullptr;
  if (!p->start())
    return nullptr;
  return p;
}

/// Waits for `f` up to `timeout`; true when it became ready.
template <class T>
bool ready_within(std::future<T>& f, std::chrono::milliseconds timeout) {
  return f.wait_for(timeout) == std::future_status::ready;
}

/// The result in `f`, or an io_error "no reply" when none came within `timeout` (so a
/// lost reply fails a test instead of hanging it).
inline command_result get_within(std::future<command_result>& f,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  if (f.wait_for(timeout) != std::future_status::ready)
    return make_error(errc::io_error, "no reply within the test's timeout");
  try {
    return f.get();
  } catch (const std::future_error& e) { // the callback was dropped without a call
    return make_error(errc::io_error, std::string{"reply dropped: "} + e.what());
  }
}
inline command_result get_within(std::future<command_result>&& f,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  return get_within(f, timeout);
}

/// The decoded events of instance `id` of A, read straight from the store.
template <class A>
std::vector<typename A::event> raw_events(runtime& rt, const std::string& id,
                                          std::vector<recorded_event>* records = nullptr) {
  std::vector<typename A::event> out;
  auto evs = rt.store().read_stream(aggregate_traits<A>::stream_id(id));
  if (!evs)
    return out;
  for (auto& e : *evs) {
    auto d = aggregate_traits<A>::decode(rt.registry(), e.type, e.schema_version, e.payload, e.corrupt);
    if (d)
      out.push_back(std::move(*d));
  }
  if (records)
    *records = std::move(*evs);
  return out;
}

/// The state of a full replay of `events` from A's initial state.
template <class A>
typename A::state fold(const std::vector<typename A::event>& events) {
  auto s = aggregate_traits<A>::initial_state();
  for (const auto& e : events)
    aggregate_traits<A>::apply(s, e);
  return s;
}

/// The stream's head version (0 when it does not exist, or on error).
inline stream_version head_of(event_store& store, const std::string& stream) {
  auto h = store.stream_head(stream);
  return h ? h->head : 0;
}

/// The store's last global position (0 on error).
inline global_position last_pos(event_store& store) {
  auto p = store.last_position();
  return p ? *p : 0;
}

/// Live (not passivating) instances of A in `rt`, as the router counts them; uint64 max
/// when the router does not answer.
template <class A>
uint64_t live_instances(runtime& rt) {
  uint64_t n = std::numeric_limits<uint64_t>::max();
  auto router = rt.router<A>();
  if (!router)
    return n;
  caf::scoped_actor self{rt.system()};
  self->request(*router, std::chrono::seconds(5), detail::stats_atom::value)
    .receive([&](uint64_t x) { n = x; }, [&](caf::error&) {});
  return n;
}

/// A runtime configuration with its data in `dir`, every other setting at its default.
inline runtime_config config_in(const temp_dir& dir) {
  runtime_config cfg;
  cfg.data_dir = dir.path();
  return cfg;
}

/// Command options carrying command id `id`.
inline command_options with_id(std::string id) {
  command_options o;
  o.command_id = std::move(id);
  return o;
}

} // namespace annal::test
