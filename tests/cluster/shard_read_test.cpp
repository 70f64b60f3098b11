// Reads of one shard through the cluster (cluster_node::read_shard): every shard, read from
// any node, gives the owner's events of that shard in shard-position order, resumable with
// the owner's hint; a stale map, a shard count that differs from the journals' and an
// unreachable owner are refused.
#include <catch2/catch.hpp>

#include <future>
#include <map>

#include "annal/cluster/cluster_config.hpp"
#include "cluster_harness.hpp"

using namespace annal;
using namespace annal::cluster;
using annal::test::test_node;
using annal::test::wait_until;

namespace {

result<shard_events> read_via(test_node& via, uint16_t shard, uint64_t after, uint64_t hint = 0,
                              uint64_t hint_epoch = 0) {
  auto p = std::make_shared<std::promise<result<shard_events>>>();
  auto f = p->get_future();
  via.node->read_shard(shard, after, hint, hint_epoch,
                       [p](result<shard_events> r) { p->set_value(std::move(r)); });
  if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
    return make_error(errc::io_error, "no answer within 10 s");
  return f.get();
}

// (stream, version, shard position) of every event of `shard`, read through `via` in
// answers of at most 1000, each resumed from the previous one's hint (bounded rounds).
using rows = std::vector<std::tuple<std::string, uint64_t, uint64_t>>;
rows read_whole_shard(test_node& via, uint16_t shard, int* answers = nullptr) {
  rows out;
  uint64_t after = 0, hint = 0, hint_epoch = 0;
  for (int round = 0; round < 100; ++round) {
    auto r = read_via(via, shard, after, hint, hint_epoch);
    REQUIRE(r);
    if (answers)
      ++*answers;
    for (const auto& e : r->events) {
      CHECK(e.shard == shard);
      CHECK(e.shard_position > after);
      after = e.shard_position;
      out.emplace_back(e.stream_id, e.version, e.shard_position);
    }
    hint = r->next_hint;
    hint_epoch = r->epoch;
    if (r->at_end)
      return out;
  }
  FAIL("shard " << shard << " did not reach its end in 100 answers");
  return out;
}

// The same from the owner's journal directly.
rows stored_rows(event_store& store, uint16_t shard) {
  rows out;
  auto all = store.read_all(0, 1000000);
  REQUIRE(all);
  for (const auto& e : *all)
    if (e.shard == shard)
      out.emplace_back(e.stream_id, e.version, e.shard_position);
  return out;
}

} // namespace

TEST_CASE("every shard read from any node gives its owner's events in shard-position order",
          "[cluster][shard_read]") {
  annal::test::temp_dir dir;
  std::vector<std::pair<std::string, uint16_t>> members{{"a", annal::test::free_port()},
                                                        {"b", annal::test::free_port()}};
  test_node a{dir / "a", annal::test::loopback_config(members, "a")};
  test_node b{dir / "b", annal::test::loopback_config(members, "b")};
  REQUIRE(wait_until([&] { return b.link_is("a", link_state::up) && a.link_is("b", link_state::up); }));
  // 40 counters, commands through both nodes (half of them forwarded).
  for (int i = 0; i < 40; ++i)
    annal::test::add_n(i % 2 ? a : b, "k" + std::to_string(i), 1 + i % 3);
  const auto& map = a.node->status().shards;
  std::size_t total = 0;
  for (uint16_t shard = 0; shard < 64; ++shard) {
    INFO("shard " << shard);
    auto& owner = map.owner(shard).node == "a" ? a : b;
    auto expected = stored_rows(owner.rt->store(), shard);
    CHECK(read_whole_shard(a, shard) == expected);
    CHECK(read_whole_shard(b, shard) == expected);
    total += expected.size();
  }
  CHECK(total == 79); // 40 counters of 1 + i % 3 events: 14 x 1 + 13 x 2 + 13 x 3

  // A shard longer than one answer comes in several, resumed from the owner's hint.
  uint16_t big = map.shard_of(aggregate_traits<ctr::counter>::stream_id("k0"));
  auto big_owner = map.owner(big).node;
  annal::test::add_n(big_owner == "a" ? b : a, "k0", 1200);
  int answers = 0;
  auto whole = read_whole_shard(big_owner == "a" ? b : a, big, &answers);
  CHECK(whole == stored_rows((big_owner == "a" ? a : b).rt->store(), big));
  CHECK(whole.size() > 1200);
  CHECK(answers >= 2);
}

TEST_CASE("a shard read reaches the owner once a stale map is healed, and is refused for a shard "
          "count the journals do not share and an unreachable owner",
          "[cluster][shard_read]") {
  annal::test::temp_dir dir;
  std::vector<std::pair<std::string, uint16_t>> members{{"a", annal::test::free_port()},
                                                        {"b", annal::test::free_port()}};
  auto plain = annal::test::loopback_config(members, "a");
  uint16_t shard = 0;
  while (plain.shards.owner(shard).node != "a")
    ++shard;
  // a owns the shard at epoch 2; b's map says epoch 1.
  auto bumped = R"(, "shards": {")" + std::to_string(shard) + R"(": {"owner": "a", "epoch": 2}})";
  auto a = std::make_unique<test_node>(dir / "a", annal::test::loopback_config(members, "a", 64, bumped));
  test_node b{dir / "b", annal::test::loopback_config(members, "b")};
  REQUIRE(wait_until([&] { return b.link_is("a", link_state::up); }));
  // b's stale map is healed by the exchange at link-up: the read goes to a at epoch 2.
  REQUIRE(wait_until([&] { return b.node->status().shards.owner(shard).epoch == 2; }));
  auto healed = read_via(b, shard, 0);
  REQUIRE(healed);
  CHECK(healed->epoch == 2);
  auto missing = read_via(b, 64, 0);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == errc::bad_request);

  a.reset();
  REQUIRE(wait_until([&] { return !b.link_is("a", link_state::up); }));
  auto t0 = std::chrono::steady_clock::now();
  auto gone = read_via(b, shard, 0);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1100));
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code == errc::unavailable);

  // A cluster of 16 shards over journals of 64: shard positions would not match.
  test_node c{dir / "c", annal::test::loopback_config({{"c", annal::test::free_port()}}, "c", 16)};
  auto mismatch = read_via(c, 0, 0);
  REQUIRE_FALSE(mismatch);
  CHECK(mismatch.error().code == errc::bad_request);
}
