// The public header is lean: a translation unit with annal/runtime.hpp alone
// (runtime_only_user.cpp) sends and loads; only registration needs aggregate_host.hpp.
#include <catch2/catch.hpp>

#include "annal/aggregate_host.hpp"
#include "runtime_only_user.hpp"
#include "temp_dir.hpp"
#include "write_side_helpers.hpp"

using namespace annal;

namespace {

runtime_config no_sync_in(const test::temp_dir& dir) {
  auto cfg = test::config_in(dir);
  cfg.mode = durability::no_sync;
  return cfg;
}

} // namespace

TEST_CASE("a translation unit with runtime.hpp alone sends commands and loads states",
          "[runtime][lean]") {
  test::temp_dir dir;
  auto rt = test::start_runtime<tally::counter>(no_sync_in(dir));
  REQUIRE(rt);
  auto total = tally::count_and_load(*rt, "t1", 3);
  REQUIRE(total);
  CHECK(*total == 6);
  auto rejected = tally::count_and_load(*rt, "t1", 0);
  REQUIRE_FALSE(rejected);
  CHECK(rejected.error().code == errc::rejected);
}

TEST_CASE("an aggregate type registers once, before start, and commands wait for start",
          "[runtime][lean]") {
  test::temp_dir dir;
  auto rt = runtime::open(no_sync_in(dir));
  REQUIRE(rt);
  CHECK_FALSE((*rt)->router<tally::counter>());
  REQUIRE((*rt)->register_aggregate<tally::counter>());
  auto twice = (*rt)->register_aggregate<tally::counter>();
  REQUIRE_FALSE(twice);
  CHECK(twice.error().code == errc::already_exists);
  auto early = (*rt)->send<tally::counter>("t1", tally::count{1}).get();
  REQUIRE_FALSE(early);
  CHECK(early.error().code == errc::unavailable);
  REQUIRE((*rt)->start());
  CHECK((*rt)->router<tally::counter>());
  auto late = (*rt)->register_aggregate<tally::counter>();
  REQUIRE_FALSE(late);
  CHECK(late.error().code == errc::bad_request);
}
