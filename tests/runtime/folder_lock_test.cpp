#include <catch2/catch.hpp>

#include <caf/actor_system.hpp>
#include <caf/policy/work_sharing.hpp>
#include <caf/policy/work_stealing.hpp>
#include <caf/scheduler/coordinator.hpp>

#include <fstream>

#include "annal/runtime.hpp"
#include "bank_account.hpp"
#include "temp_dir.hpp"

using namespace annal;

TEST_CASE("a second runtime on a folder in use is refused, and gets it once the first stops",
          "[runtime]") {
  test::temp_dir dir;
  runtime_config cfg;
  cfg.data_dir = dir.path();
  auto first = runtime::open(cfg);
  REQUIRE(first);
  auto second = runtime::open(cfg);
  REQUIRE_FALSE(second);
  CHECK(second.error().code == errc::unavailable);
  CHECK(second.error().message.find("in use") != std::string::npos);
  REQUIRE((*first)->stop());
  auto third = runtime::open(cfg);
  REQUIRE(third);
}

TEST_CASE("deleting the lock file does not free a folder in use", "[runtime]") {
  test::temp_dir dir;
  runtime_config cfg;
  cfg.data_dir = dir.path();
  auto first = runtime::open(cfg);
  REQUIRE(first);
  // The lock was an flock on <data>/annal.lock; deleting it let a second runtime in.
  std::error_code ec;
  std::filesystem::remove(dir / "annal.lock", ec);
  auto second = runtime::open(cfg);
  REQUIRE_FALSE(second);
  CHECK(second.error().code == errc::unavailable);
  REQUIRE((*first)->stop());
  CHECK(runtime::open(cfg));
}

TEST_CASE("bad CAF options and a bad durability name are refused with a clear error", "[runtime]") {
  test::temp_dir dir;
  runtime_config cfg;
  cfg.data_dir = dir.path();
  cfg.caf_args = {"--no-such-option=1"};
  auto rt = runtime::open(cfg);
  REQUIRE_FALSE(rt);
  CHECK(rt.error().code == errc::bad_request);
  cfg.caf_args = {"--annal.durability=sometimes"};
  rt = runtime::open(cfg);
  REQUIRE_FALSE(rt);
  CHECK(rt.error().message.find("durability") != std::string::npos);
  cfg.caf_args = {"--annal.durability=no_sync", "--scheduler.max-threads=2"};
  rt = runtime::open(cfg);
  REQUIRE(rt);
  CHECK((*rt)->config().mode == durability::no_sync);
}

TEST_CASE("a runtime's own actor system shares one job queue unless CAF's options say otherwise",
          "[runtime]") {
  using sharing = caf::scheduler::coordinator<caf::policy::work_sharing>;
  using stealing = caf::scheduler::coordinator<caf::policy::work_stealing>;
  test::temp_dir a, b;
  runtime_config cfg;
  cfg.data_dir = a.path();
  auto rt = runtime::open(cfg);
  REQUIRE(rt);
  CHECK(dynamic_cast<sharing*>(&(*rt)->system().scheduler()) != nullptr);
  cfg.data_dir = b.path();
  cfg.caf_args = {"--scheduler.policy=stealing"};
  auto other = runtime::open(cfg);
  REQUIRE(other);
  CHECK(dynamic_cast<stealing*>(&(*other)->system().scheduler()) != nullptr);
}

TEST_CASE("runtime settings are read from a CAF config file", "[runtime]") {
  test::temp_dir dir;
  auto ini = dir / "annal.ini";
  {
    std::ofstream out{ini};
    out << "[annal]\ndata-dir=\"" << (dir / "from-ini").string() << "\"\nsnapshots-to-keep=7\n"
        << "durability=\"no_sync\"\nrecovery-permits=3\nmax-batch-events=500\n"
        << "max-batch-bytes=65536\nmap-cap-mb=256\nbus-max-buffered-events=1000\n"
        << "bus-max-unacked-events=2000\n";
  }
  runtime_config cfg;
  cfg.caf_config_file = ini.string();
  auto rt = runtime::open(cfg);
  REQUIRE(rt);
  const auto& c = (*rt)->config();
  CHECK(c.data_dir == dir / "from-ini");
  CHECK(c.snapshots_to_keep == 7);
  CHECK(c.mode == durability::no_sync);
  CHECK(c.recovery_permits == 3);
  CHECK(c.writer.max_batch_events == 500);
  CHECK(c.writer.max_batch_bytes == 65536);
  CHECK(c.max_map_size == std::size_t{256} << 20);
  CHECK(c.bus.max_buffered_events == 1000);
  CHECK(c.bus.max_unacked_events == 2000);
  CHECK(std::filesystem::exists(dir / "from-ini" / "journal" / "data.mdb"));
}
