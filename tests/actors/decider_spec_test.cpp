#include <catch2/catch.hpp>

#include "annal/testing/decider_spec.hpp"
#include "bank_account.hpp"

using annal::testing::given;
using namespace bank;

TEST_CASE("a deposit into an open account decides one deposited event", "[testkit]") {
  auto spec = given<account>({opened{"ann"}}).when(deposit{5});
  REQUIRE(spec.then_events({deposited{5}}));
  CHECK_FALSE(spec.then_events({deposited{6}}));
  CHECK_FALSE(spec.then_rejected());
  CHECK(spec.then_state([](const state& s) { return s.balance == 5; }));
}

TEST_CASE("the test kit reports rejections, throws and empty decisions", "[testkit]") {
  CHECK(given<account>({}).when(deposit{5}).then_rejected("not open"));
  CHECK_FALSE(given<account>({}).when(deposit{5}).then_rejected("insufficient"));
  auto thrown = given<account>({opened{"a"}}).when(explode{});
  CHECK_FALSE(thrown.then_rejected());
  CHECK(thrown.then_rejected().message().find("boom") != std::string::npos);
  CHECK(given<account>({opened{"a"}}).when(touch{}).then_nothing());
  auto mismatch = given<account>({opened{"a"}}).when(deposit{7}).then_events({deposited{8}});
  CHECK(mismatch.message().find("\"amount\": 8") != std::string::npos);
}

TEST_CASE("snapshot plus tail equals full replay for an account history", "[testkit]") {
  std::vector<account::event> history{opened{"a"}, deposited{5}, withdrawn{2}, deposited{9}};
  CHECK(annal::testing::snapshot_round_trip_matches_replay<account>(history));
}
