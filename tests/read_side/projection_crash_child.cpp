// Child process of exactly_once_test.cpp: runs a durable runtime with the crash_model
// projection (small catch-up chunks, so many read-model commits) under a command workload
// until the parent kills it with SIGKILL.
//
//   projection_crash_child DATA_DIR SEED
//
// Writes "ready\n" on stdout (one write(2)) once the runtime is started, so that the parent
// times its kill from there. Exits only when killed (or with status 1 on a setup error).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <future>
#include <string>

#include "annal/aggregate_host.hpp"
#include "bank_account.hpp"
#include "projection_crash_model.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DATA_DIR SEED\n", argv[0]);
    return 2;
  }
  const uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  annal::runtime_config cfg;
  cfg.data_dir = argv[1];
  cfg.mode = annal::durability::durable;
  auto rt = annal::runtime::open(cfg);
  if (!rt) {
    std::fprintf(stderr, "open: %s\n", rt.error().to_string().c_str());
    return 1;
  }
  if (auto ok = (*rt)->register_aggregate<bank::account>(); !ok) {
    std::fprintf(stderr, "register: %s\n", ok.error().to_string().c_str());
    return 1;
  }
  // Chunks vary per run so that the kills land on differently shaped transactions.
  if (auto ok = crash_model::add_projection(**rt, 8 + seed % 57); !ok) {
    std::fprintf(stderr, "projection: %s\n", ok.error().to_string().c_str());
    return 1;
  }
  if (auto ok = (*rt)->start(); !ok) {
    std::fprintf(stderr, "start: %s\n", ok.error().to_string().c_str());
    return 1;
  }
  // The workload starts at once: the projection still catches up from the previous
  // round's checkpoint (in small chunks), so kills land in catch-up transactions, at the
  // switch to live and in live group-applies alike.
  constexpr int accounts = 16;
  for (int a = 0; a < accounts; ++a)
    (void)(*rt)->send<bank::account>("c" + std::to_string(a), bank::open{"owner"}).get(); // rejected when open
  static const char ready[] = "ready\n";
  if (::write(STDOUT_FILENO, ready, sizeof ready - 1) != static_cast<ssize_t>(sizeof ready - 1))
    return 1;
  std::deque<std::future<annal::command_result>> window;
  for (uint64_t i = seed;; ++i) {
    window.push_back((*rt)->send<bank::account>("c" + std::to_string(i % accounts),
                                                bank::deposit{static_cast<int64_t>(i % 9 + 1)}));
    if (window.size() >= 48) {
      (void)window.front().get();
      window.pop_front();
    }
  }
}
