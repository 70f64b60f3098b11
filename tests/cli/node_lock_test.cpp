// One node per data folder, also when the lock file is deleted from under it: the lock
// was an flock on <data>/annal.lock, so deleting that file let a second node create and
// lock a new one, open the same stores, and both then aborted.
#include <catch2/catch.hpp>

#include <filesystem>

#include "annal_process.hpp"
#include "temp_dir.hpp"

using namespace annal::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> node_args(const temp_dir& data) {
  return {"--data", data.path().string(), "--http", "127.0.0.1:0", "--scheduler.max-threads=2"};
}

} // namespace

TEST_CASE("a second node is refused on a folder in use even after annal.lock was deleted",
          "[cli][lock]") {
  temp_dir data;
  annal_process first{SHOP_NODE_BINARY, node_args(data)};
  auto url = first.read_line(60s);
  INFO("first node: " << first.err());
  REQUIRE(url);
  REQUIRE(url->rfind("http://", 0) == 0);
  std::error_code ec;
  std::filesystem::remove(data / "annal.lock", ec); // what an operator's clean-up did

  auto second = run_program(SHOP_NODE_BINARY, node_args(data), 30s);
  INFO("second node: " << second.out << second.err);
  CHECK(second.signal == 0);
  CHECK(second.exit_code == 1);
  CHECK(second.err.find("in use by another Annal runtime") != std::string::npos);
  CHECK(run_annal({"--data", data.path().string(), "rebuild", "catalog"}).exit_code == 4);

  first.interrupt();
  CHECK(first.wait(60s) == 0);
  auto third = annal_process{SHOP_NODE_BINARY, node_args(data)};
  CHECK(third.read_line(60s));
  third.interrupt();
  CHECK(third.wait(60s) == 0);
}
