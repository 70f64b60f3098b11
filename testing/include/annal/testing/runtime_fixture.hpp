// A runtime on a fresh temporary folder for a test: no_sync by default, the journal wrapped
// in a faulty_journal (fixture.faults()), the folder removed at the end, and
// crash_and_reopen() to simulate a crash and a restart within one test.
//
// Deterministic mode (fixture_options::deterministic): every actor of the runtime runs on
// CAF's test coordinator, on the test's own thread, and only when the test says so —
// step() runs one message, run() runs until none is queued, advance_time() moves the
// virtual clock (ticks, deadlines, process managers' timers), await() runs until a
// command's answer came. The same test steps the same way every time.
//
//   annal::testing::runtime_fixture fx{[](annal::runtime& rt) {
//     return rt.register_aggregate<account>();
//   }};
//   auto r = fx->send<account>("7", deposit{5}).get();
//   REQUIRE(fx.crash_and_reopen());
//
// Thread safety: one thread drives the fixture; faults() may be changed from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>

#include "annal/aggregate_host.hpp"
#include "annal/testing/faulty_journal.hpp"

namespace caf::scheduler {
class test_coordinator;
}

namespace annal::testing {

struct fixture_options {
  /// Registers what the test needs (aggregates, projections, process managers); runs on
  /// every open, before start(). May be empty.
  std::function<status(runtime&)> setup;
  /// no_sync by default: tests do not need fsync (a crash here is a process crash, which
  /// no_sync survives; see crash_and_reopen).
  durability mode = durability::no_sync;
  /// Adjusts the rest of the configuration (data_dir, mode and wrap_journal are the fixture's).
  std::function<void(runtime_config&)> configure;
  /// Start the runtime after setup (false: the test calls start() itself).
  bool start = true;
  /// Run every actor on CAF's test coordinator (`scheduler.policy = testing`): nothing
  /// runs until the test calls step(), run(), advance_time() or await(). Blocking calls
  /// that wait on actors (a future's get(), await_projection) wait in vain unless the
  /// test ran the actors first.
  bool deterministic = false;
};

/// Owns a temporary folder and a runtime on it. Opening failures are thrown as
/// std::runtime_error from the constructor (a test fixture, never inside an actor).
class runtime_fixture {
public:
  explicit runtime_fixture(fixture_options options);
  explicit runtime_fixture(std::function<status(runtime&)> setup = {});
  /// Stops the runtime, then removes the folder.
  ~runtime_fixture();
  runtime_fixture(const runtime_fixture&) = delete;
  runtime_fixture& operator=(const runtime_fixture&) = delete;

  runtime& rt() noexcept { return *rt_; }
  runtime* operator->() noexcept { return rt_.get(); }

  /// The faults of the current journal (a fresh, empty set after each reopen).
  journal_faults& faults() noexcept { return *faults_; }

  /// The temporary data folder (journal and read models).
  const std::filesystem::path& folder() const noexcept { return folder_; }

  /// Simulates a crash: every write from now on is refused (io_error; commands in flight
  /// get that error, where a real crash would leave them unanswered), the runtime is
  /// dropped without committing anything more, and a new one opens on the same folder
  /// (setup runs again). What was committed before stays; nothing after does.
  status crash_and_reopen();

  /// A clean restart: stop() (everything queued is committed), then open again.
  status reopen();

  // -- deterministic mode (each returns 0 / false outside it) --------------------------

  /// Runs the next queued message (the coordinator's queue is FIFO across actors, one
  /// message per step); false when none is queued.
  bool step();
  /// Runs queued messages until none is left, at most `max`; returns how many ran.
  std::size_t run(std::size_t max = 10000000);
  /// Moves the virtual clock forward by `d`, delivering the delayed messages due by then,
  /// then run(). Returns how many messages ran.
  std::size_t advance_time(std::chrono::nanoseconds d);
  /// How many actors have messages waiting.
  std::size_t queued() const noexcept;
  /// The outcome of `f`: in deterministic mode runs messages until it is there (a
  /// `timeout` error when nothing is left to run first: it waits on the clock), else waits.
  command_result await(std::future<command_result> f);

private:
  status open();
  caf::scheduler::test_coordinator* coordinator_ = nullptr;
  fixture_options options_;
  std::filesystem::path folder_;
  std::shared_ptr<journal_faults> faults_;
  std::unique_ptr<runtime> rt_;
};

} // namespace annal::testing
