// Map growth under readers: the journal's map must grow (doubling) while subscribers read it
// and a process manager sends commands from what it read. A reader that waits for another
// actor inside its transaction deadlocks the growth; here that shows as a child process
// that never finishes, killed at a deadline.
#include <catch2/catch.hpp>

#include "child_run.hpp"
#include "temp_dir.hpp"

#ifndef ANNAL_MAP_GROWTH_CHILD
#error "ANNAL_MAP_GROWTH_CHILD must name the map_growth_child executable"
#endif

namespace {

annal::test::child_outcome run(const annal::test::temp_dir& dir, const char* mode) {
  auto r = annal::test::run_child(ANNAL_MAP_GROWTH_CHILD, {dir.path().string(), mode},
                                  std::chrono::seconds(240));
  INFO(mode << " printed:\n" << r.output);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  return r;
}

} // namespace

TEST_CASE("the journal map doubles several times while a process manager catches up and sends "
          "commands",
          "[growth]") {
  annal::test::temp_dir dir;
  auto r = run(dir, "grow");
  CHECK(r.output.find("ok map=") != std::string::npos);
}

TEST_CASE("a folder whose journal map is 99.8 % full restarts while a process manager catches up "
          "and writes",
          "[growth]") {
  annal::test::temp_dir dir;
  auto filled = run(dir, "fill");
  REQUIRE(filled.exit_code == 0);
  auto r = run(dir, "restart");
  CHECK(r.output.find("ok map=") != std::string::npos);
}
