// What the soak's clients were told, kept for the checks after each restart: every
// acknowledged command (stream, version, position and event type of its reply), the skus,
// and the orders whose state must be checked at the next quiet point. Thread-safe: one
// mutex; the counters are atomics read by the rate monitor.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace annal::soak {

/// One acknowledged (2xx) command: where its reply said its event is.
struct ack {
  std::string stream;
  uint64_t version = 0;
  uint64_t position = 0;
  std::string type;
  /// Another type the event there may have: a command that changed nothing (a price set
  /// to the current one) decides no event, and its reply names the stream's newest one.
  std::string or_type;

  /// True when an event of type `t` at the reply's version agrees with this reply.
  bool matches(const std::string& t) const { return t == type || (!or_type.empty() && t == or_type); }
};

class soak_ledger {
public:
  /// Records a 2xx command.
  void acknowledge(ack a);
  /// Marks an order to check at the next quiet point (placed, paid, shipped, cancelled, or
  /// a placement whose outcome is unknown).
  void touch_order(const std::string& id, bool acked_placement);
  void add_sku(const std::string& sku);

  std::vector<std::string> skus() const;
  /// The acks not checked yet; they count as checked from now on.
  std::vector<ack> take_unchecked();
  /// The orders touched since the last call, and whether their placement was acked.
  std::vector<std::pair<std::string, bool>> take_touched();
  /// Orders whose placement was acked (all rounds).
  bool placement_acked(const std::string& id) const;
  /// Every order whose placement was acked (all rounds).
  std::vector<std::string> acked_orders() const;

  std::atomic<uint64_t> acked{0};
  std::atomic<uint64_t> refused{0};     ///< 4xx answers (domain refusals, conflicts)
  std::atomic<uint64_t> failed{0};      ///< 5xx answers
  std::atomic<uint64_t> no_answer{0};   ///< transport errors (mostly the kill -9)
  /// steady_clock ticks of the newest 2xx command.
  std::atomic<int64_t> last_ack_ticks{0};

private:
  mutable std::mutex mx_;
  std::vector<std::string> skus_;
  std::vector<ack> unchecked_;
  std::set<std::string> touched_;
  std::set<std::string> acked_orders_;
};

} // namespace annal::soak
