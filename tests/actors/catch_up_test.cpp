// runtime::catch_up: a state a caller keeps, brought up to date with only the events
// after it, equals a fresh load; a state the stream cannot continue is refused.
#include <catch2/catch.hpp>

#include <string>

#include "annal/runtime.hpp"
#include "bank_account.hpp"
#include "temp_dir.hpp"
#include "write_side_helpers.hpp"

using namespace annal;
using bank::account;
using test::config_in;

namespace {

void deposit_n(runtime& rt, const std::string& id, int n) {
  for (int k = 1; k <= n; ++k)
    REQUIRE(test::get_within(rt.send<account>(id, bank::deposit{k})));
}

} // namespace

TEST_CASE("a kept state caught up with the events after it equals a fresh load", "[aggregate][load]") {
  test::temp_dir dir;
  aggregate_options opts;
  opts.snapshot_every = 4; // a load starts from a snapshot; catch_up never does
  auto rt = test::start_runtime<account>(config_in(dir), opts);
  REQUIRE(rt);
  REQUIRE(test::get_within(rt->send<account>("k", bank::open{"o"})));
  deposit_n(*rt, "k", 5);
  auto kept = rt->load<account>("k");
  REQUIRE(kept);
  REQUIRE(kept->version == 6);

  SECTION("nothing new: the kept state as it is") {
    auto same = rt->catch_up<account>("k", *kept);
    REQUIRE(same);
    CHECK(same->version == 6);
    CHECK(same->position == kept->position);
    CHECK(same->state == kept->state);
  }
  SECTION("new events: the same state and place as a load") {
    deposit_n(*rt, "k", 9);
    auto caught = rt->catch_up<account>("k", *kept);
    auto fresh = rt->load<account>("k");
    REQUIRE(caught);
    REQUIRE(fresh);
    CHECK(caught->version == 15);
    CHECK(caught->position == fresh->position);
    CHECK(caught->state == fresh->state);
    // Only the events after the kept version were applied: a base with a marked
    // balance keeps the mark.
    auto marked = *kept;
    marked.state.balance += 1000;
    auto from_marked = rt->catch_up<account>("k", marked);
    REQUIRE(from_marked);
    CHECK(from_marked->state.balance == fresh->state.balance + 1000);
  }
  SECTION("a kept version beyond the stream's end is refused") {
    auto ahead = *kept;
    ahead.version = 40;
    auto r = rt->catch_up<account>("k", ahead);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::corrupt);
  }
  SECTION("an unknown instance is not found") {
    auto r = rt->catch_up<account>("nobody", {bank::state{}, 0, 0});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::not_found);
  }
  REQUIRE(rt->stop());
}
