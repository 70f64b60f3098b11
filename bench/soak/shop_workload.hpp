// The shop workload of the soak: client threads that create products, restock, place
// multi-line orders, pay, ship, cancel and change prices over loopback HTTP, recording
// every acknowledged command in the ledger. The node's fulfilment process managers do the
// rest (reserve, confirm or reject, ship stock, release). A request that gets no answer
// within the client timeout while the node still runs is reported as a hang.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "soak/soak_ledger.hpp"

namespace annal::soak {

struct workload_options {
  int clients = 4;
  std::size_t max_skus = 60;       ///< products created at most (new ones keep coming)
  int max_lines = 5;               ///< lines per order, 1..max_lines
  std::chrono::seconds request_timeout{20};
  std::string run_id;              ///< prefix of order ids, unique per run
};

/// One round of the workload against one node (a port): start(), then stop() after the
/// node was killed (the clients' requests then fail at once) or to end the round.
class shop_workload {
public:
  shop_workload(workload_options o, soak_ledger& ledger, int port, uint64_t seed, int round);
  /// Stops and joins the clients.
  ~shop_workload();

  void start();
  /// Tells the clients to stop and joins them (each within one request timeout).
  void stop();

  /// The first request that timed out while the node was not being killed ("" if none).
  std::string timed_out() const;
  /// Set before a kill -9: failures from then on are expected.
  void expect_failures() { killing_ = true; }

private:
  void client(int index);

  workload_options o_;
  soak_ledger& ledger_;
  int port_;
  uint64_t seed_;
  int round_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> killing_{false};
  mutable std::mutex mx_;
  std::string timed_out_;
  std::vector<std::thread> threads_;
};

/// Seeds the catalog: `count` products with stock. False (and a reason) on any failure.
bool seed_catalog(int port, soak_ledger& ledger, std::size_t count, std::chrono::seconds timeout,
                  std::string& why);

} // namespace annal::soak
