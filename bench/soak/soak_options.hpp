// Command line of the soak driver (see soak_main.cpp for what each option does).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace annal::soak {

struct soak_options {
  std::chrono::seconds duration{120};    ///< workload time in total (kills and checks excluded)
  std::chrono::seconds round_min{5};     ///< workload time between two kill -9, at least
  std::chrono::seconds round_max{20};    ///< and at most (uniformly random)
  int max_rounds = 1000;
  int clients = 4;
  std::size_t skus = 20;                 ///< products seeded at start
  std::size_t max_skus = 60;
  std::chrono::seconds interval{5};      ///< one rate line per interval
  std::filesystem::path dir;             ///< work folder (default: a new one under /tmp)
  bool keep = false;                     ///< keep the work folder after a clean run
  std::size_t map_initial_mb = 1;
  std::string durability = "durable";
  std::string payment_timeout = "1h";
  std::chrono::seconds request_timeout{20};
  std::chrono::seconds start_timeout{180};
  std::chrono::seconds stop_timeout{60};
  std::chrono::seconds quiet_timeout{180};
  std::chrono::seconds stall_timeout{30};
  std::chrono::seconds verify_timeout{900};
  int rebuild_every = 1;                 ///< verify + rebuild every N restarts (0: at the end only)
  uint64_t seed = 0;                     ///< 0: random
  std::string node;                      ///< shop-node binary
  std::string annal;                     ///< annal CLI binary
  std::vector<std::string> node_args;
  // The rebuild child (internal): --rebuild-into DIR --from DIR.
  std::filesystem::path rebuild_into;
  std::filesystem::path rebuild_from;
};

/// Parses argv; prints usage and exits 2 on a bad option.
soak_options parse_options(int argc, char** argv);

} // namespace annal::soak
