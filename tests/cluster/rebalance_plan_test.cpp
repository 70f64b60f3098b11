// The plan a rebalance follows, one move at a time: even shards among the members (no two
// differing by more than one), or empty a draining member; applied to a map until it says
// nothing, it ends there in the fewest moves.
#include <catch2/catch.hpp>

#include <map>

#include "rebalance_plan.hpp"

using namespace annal::cluster;
using annal::cluster::detail::next_move;

namespace {

// Applies next_move until none; returns the moves made (bounded, so a plan that never
// ends fails the test instead of hanging it).
int settle(shard_map& map, const std::vector<std::string>& members, const std::string& draining = {}) {
  int moves = 0;
  for (; moves < 1000; ++moves) {
    auto m = next_move(map, members, draining);
    if (!m)
      break;
    REQUIRE(map.owner(m->shard).node == m->from);
    REQUIRE(m->to != m->from);
    REQUIRE(m->to != draining);
    map.set_owner(m->shard, shard_owner{m->to, map.owner(m->shard).epoch + 1});
  }
  return moves;
}

} // namespace

TEST_CASE("a fourth member takes a fair share of 64 shards from three, in as many moves as shards it "
          "takes", "[cluster][rebalance]") {
  auto map = shard_map::assign({"a", "b", "c"}, 64); // 22, 21, 21
  CHECK(settle(map, {"a", "b", "c", "d"}) == 16);
  for (const auto* id : {"a", "b", "c", "d"})
    CHECK(map.shards_of(id).size() == 16);
  CHECK_FALSE(next_move(map, {"a", "b", "c", "d"}));
}

TEST_CASE("a balanced map needs no move, and shards differing by one count as balanced",
          "[cluster][rebalance]") {
  auto map = shard_map::assign({"a", "b", "c"}, 64);
  CHECK_FALSE(next_move(map, {"a", "b", "c"}));
  auto one = shard_map::assign({"a"}, 5);
  CHECK_FALSE(next_move(one, {"a"}));
  CHECK(settle(one, {"a", "b"}) == 2);
  CHECK(one.shards_of("a").size() == 3);
}

TEST_CASE("draining moves every shard of the member to the others, evenly", "[cluster][rebalance]") {
  auto map = shard_map::assign({"a", "b", "c", "d"}, 64);
  CHECK(settle(map, {"a", "b", "c", "d"}, "d") == 16);
  CHECK(map.shards_of("d").empty());
  auto a = map.shards_of("a").size(), b = map.shards_of("b").size(), c = map.shards_of("c").size();
  CHECK(std::max({a, b, c}) - std::min({a, b, c}) <= 1);
  CHECK(a + b + c == 64);
  // Nothing receives when the draining member is alone.
  auto alone = shard_map::assign({"a"}, 4);
  CHECK_FALSE(next_move(alone, {"a"}, "a"));
}

TEST_CASE("shards of an owner the members do not include stay where they are", "[cluster][rebalance]") {
  auto map = shard_map::assign({"a", "b", "x"}, 9); // x: not a member any more
  CHECK(settle(map, {"a", "b", "c"}) == 2);
  CHECK(map.shards_of("x").size() == 3);
  CHECK(map.shards_of("c").size() == 2);
}
