// Fault injection for the journal: an event_store decorator that makes appends fail
// (io_error), reject (conflict) or report storage_full for chosen streams or after N
// appends, adds latency, and can "crash" (refuse every later write, as if the process had
// died at that instant). Give it to a runtime with runtime_config::wrap_journal, or let
// runtime_fixture do it (fixture.faults()).
//
//   auto faults = std::make_shared<annal::testing::journal_faults>();
//   faults->fail_streams("account-7", annal::errc::io_error);
//   cfg.wrap_journal = annal::testing::wrap_with(faults);
//
// Thread safety: journal_faults may be changed from any thread while the runtime runs.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "annal/error.hpp"
#include "annal/event_store.hpp"

namespace annal::testing {

/// The faults a faulty_journal injects (shared between the test and the decorator).
class journal_faults {
public:
  /// Every append to a stream whose id starts with one of `prefixes` fails with `code`
  /// (io_error, conflict, storage_full, ...); the other appends of the same group commit
  /// are written. Replaces earlier stream rules.
  void fail_streams(std::vector<std::string> prefixes, errc code);
  void fail_streams(std::string prefix, errc code) { fail_streams(std::vector<std::string>{std::move(prefix)}, code); }

  /// The first `n` appends from now on pass; every later one fails with `code`. For
  /// io_error and storage_full the group commit that holds such an append fails whole
  /// (its other appends too), the way the LMDB store reports them.
  void fail_after(uint64_t n, errc code);

  /// Adds `latency` before every append and commit (a slow disk).
  void set_latency(std::chrono::milliseconds latency);

  /// From now on, every write is refused with io_error and nothing reaches the store:
  /// what was not committed before this call is lost (runtime_fixture::crash_and_reopen).
  void crash();

  /// Removes every fault (not a crash: a crashed journal stays crashed).
  void clear();

  /// Appends that reached the decorator, and those it let through to the store.
  uint64_t appends_seen() const noexcept { return seen_.load(); }
  uint64_t appends_written() const noexcept { return written_.load(); }

  /// The error for an append to `stream` (counting it), or none. For the decorator.
  std::optional<errc> on_append(const std::string& stream, bool& batch_wide);
  /// Sleeps the latency and tells whether the journal crashed. For the decorator.
  bool before_write();
  void count_written(uint64_t n) noexcept { written_ += n; }

private:
  mutable std::mutex mx_;
  std::vector<std::string> prefixes_;
  errc stream_code_ = errc::io_error;
  uint64_t allowed_ = std::numeric_limits<uint64_t>::max();
  errc after_code_ = errc::io_error;
  std::chrono::milliseconds latency_{0};
  std::atomic<bool> crashed_{false};
  std::atomic<uint64_t> seen_{0};
  std::atomic<uint64_t> written_{0};
};

/// Decorates `inner` with `faults` (reads pass through untouched).
std::unique_ptr<event_store> make_faulty_journal(std::unique_ptr<event_store> inner,
                                                 std::shared_ptr<journal_faults> faults);

/// A runtime_config::wrap_journal that decorates the runtime's journal with `faults`.
std::function<std::unique_ptr<event_store>(std::unique_ptr<event_store>)>
wrap_with(std::shared_ptr<journal_faults> faults);

} // namespace annal::testing
