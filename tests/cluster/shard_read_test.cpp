// Reads of whole shards through the cluster (cluster_node::read_shard): any node reads any
// shard from its owner's journal, in shard-position order and in pieces it resumes, so that
// a reader covering every shard sees every event of the cluster exactly once; a reader with
// a stale map is refused.
#include <catch2/catch.hpp>

#include <future>
#include <map>

#include "cluster_harness.hpp"

using namespace annal;
using namespace annal::cluster;
using annal::test::test_node;
using annal::test::wait_until;

namespace {

// cluster_node::read_shard through `via`, waited for (bounded).
result<shard_events> read_via(const test_node& via, uint16_t shard, uint64_t after, global_position from) {
  auto p = std::make_shared<std::promise<result<shard_events>>>();
  auto f = p->get_future();
  via.node->read_shard(shard, after, from, [p](result<shard_events> r) { p->set_value(std::move(r)); });
  if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
    return make_error(errc::io_error, "no answer within 10 s");
  return f.get();
}

// Every event of `shard` through `via`, read in pieces; the shard positions in order.
std::vector<recorded_event> whole_shard(const test_node& via, uint16_t shard, int& pieces) {
  std::vector<recorded_event> out;
  uint64_t after = 0;
  global_position from = 0;
  for (bool more = true; more && pieces < 10000; ++pieces) {
    auto r = read_via(via, shard, after, from);
    REQUIRE(r);
    for (auto& e : r->events)
      out.push_back(std::move(e));
    if (!out.empty())
      after = out.back().shard_position;
    from = r->resume_after;
    more = r->more;
  }
  return out;
}

void add_to(test_node& via, const std::vector<std::string>& ids, int rounds) {
  std::vector<std::future<command_result>> sent;
  static int next = 0;
  for (int r = 0; r < rounds; ++r)
    for (const auto& id : ids) {
      command_options o;
      o.command_id = "cmd-" + std::to_string(next++); // metadata travels with a shard read
      sent.push_back(via.rt->send<ctr::counter>(id, ctr::add{1, "t"}, o));
    }
  for (auto& f : sent) {
    REQUIRE(f.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    REQUIRE(f.get());
  }
}

} // namespace

TEST_CASE("any node reads every shard from its owner in shard-position order, and together the "
          "shards hold each event of the cluster once",
          "[cluster][shard_read]") {
  annal::test::temp_dir dir;
  std::vector<std::pair<std::string, uint16_t>> members{{"a", annal::test::free_port()},
                                                        {"b", annal::test::free_port()}};
  // The stores' shard count (64 by default) and the cluster's are the same.
  test_node a{dir / "a", annal::test::loopback_config(members, "a", 64)};
  test_node b{dir / "b", annal::test::loopback_config(members, "b", 64)};
  REQUIRE(wait_until([&] { return b.link_is("a", link_state::up) && a.link_is("b", link_state::up); }));
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i)
    ids.push_back("s" + std::to_string(i));
  add_to(a, ids, 30); // 1,200 events, half of them forwarded to b
  add_to(b, ids, 10);
  add_to(b, {"big"}, 1100); // one shard longer than one answer (1,000 events)

  // What the owners' journals hold, shard by shard.
  std::map<uint16_t, std::vector<std::pair<std::string, uint64_t>>> held;
  for (auto* n : {&a, &b}) {
    auto all = n->rt->store().read_all(0, 100000);
    REQUIRE(all);
    for (const auto& e : *all)
      held[e.shard].emplace_back(e.stream_id, e.version);
  }
  const auto& map = a.node->status().shards;
  for (auto* reader : {&a, &b}) {
    std::size_t seen = 0;
    int pieces = 0;
    for (uint16_t shard = 0; shard < 64; ++shard) {
      INFO("shard " << shard << " owned by " << map.owner(shard).node);
      auto events = whole_shard(*reader, shard, pieces);
      std::vector<std::pair<std::string, uint64_t>> got;
      for (std::size_t i = 0; i < events.size(); ++i) {
        CHECK(events[i].shard == shard);
        CHECK(events[i].shard_position == i + 1); // nothing deleted: consecutive from 1
        CHECK(events[i].type == "ctr.added");
        CHECK(events[i].metadata.command_id.rfind("cmd-", 0) == 0);
        got.emplace_back(events[i].stream_id, events[i].version);
      }
      CHECK(got == held[shard]);
      seen += events.size();
    }
    CHECK(seen == 2700);
    CHECK(pieces > 64); // the long shard came in more than one answer
  }
  auto bad = read_via(a, 64, 0, 0);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == errc::bad_request);
}

TEST_CASE("a shard read with a stale epoch is refused, and one for an unreachable owner fails fast",
          "[cluster][shard_read]") {
  annal::test::temp_dir dir;
  std::vector<std::pair<std::string, uint16_t>> members{{"a", annal::test::free_port()},
                                                        {"b", annal::test::free_port()}};
  auto plain = annal::test::loopback_config(members, "a", 64);
  uint16_t shard = 0;
  while (plain.shards.owner(shard).node != "b")
    ++shard;
  // a's map says b owns the shard at epoch 2; b owns it at epoch 1.
  auto bumped = R"(, "shards": {")" + std::to_string(shard) + R"(": {"owner": "b", "epoch": 2}})";
  test_node a{dir / "a", annal::test::loopback_config(members, "a", 64, bumped)};
  auto b = std::make_unique<test_node>(dir / "b", annal::test::loopback_config(members, "b", 64));
  REQUIRE(wait_until([&] { return a.link_is("b", link_state::up); }));
  auto stale = read_via(a, shard, 0, 0);
  REQUIRE_FALSE(stale);
  CHECK(stale.error().code == errc::unavailable);
  CHECK(stale.error().message.find("epoch") != std::string::npos);
  uint16_t current = shard + 1;
  while (plain.shards.owner(current).node != "b")
    ++current;
  CHECK(read_via(a, current, 0, 0));

  b.reset();
  REQUIRE(wait_until([&] { return !a.link_is("b", link_state::up); }));
  auto t0 = std::chrono::steady_clock::now();
  auto gone = read_via(a, current, 0, 0);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1100));
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code == errc::unavailable);
}
