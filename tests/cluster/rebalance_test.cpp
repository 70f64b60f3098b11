// Joining and rebalancing in process (runtimes on loopback): a node the others do not know
// is added once it proves the secret and takes its share of the shards; a rebalance waits
// for every member and fails, bounded, when one never comes up; one runs at a time.
#include <catch2/catch.hpp>

#include <future>

#include "cluster_harness.hpp"

namespace rebalance_cases {

using namespace annal;
using namespace annal::test;

// A cluster config for `self` of `members` (id, port, joins) with a short move bound.
cluster::cluster_config joining_config(const std::vector<std::tuple<std::string, uint16_t, bool>>& members,
                                       const std::string& self) {
  std::string text = R"({"move_timeout_ms": 1500, "secret_env": "ANNAL_TEST_LOOPBACK_SECRET", "members": [)";
  for (std::size_t i = 0; i < members.size(); ++i) {
    const auto& [id, port, joins] = members[i];
    text += (i ? ", " : "") + std::string{R"({"id": ")"} + id + R"(", "host": "127.0.0.1", "port": )"
            + std::to_string(port) + (joins ? R"(, "joins": true})" : "}");
  }
  text += "]}";
  ::setenv("ANNAL_TEST_LOOPBACK_SECRET", "the-secret-of-the-loopback-tests", 1);
  auto cfg = cluster::parse_cluster_config(text, self);
  if (!cfg)
    throw std::runtime_error(cfg.error().to_string());
  return std::move(*cfg);
}

// Runs a rebalance (or drain) of `node` and waits for its outcome (bounded).
result<cluster::rebalance_report> await_rebalance(cluster::cluster_node& node, bool drain = false) {
  auto p = std::make_shared<std::promise<result<cluster::rebalance_report>>>();
  auto f = p->get_future();
  auto done = [p](result<cluster::rebalance_report> r) { p->set_value(std::move(r)); };
  drain ? node.drain(done) : node.rebalance(done);
  if (f.wait_for(std::chrono::seconds(60)) != std::future_status::ready)
    return make_error(errc::timeout, "no outcome within 60 s");
  return f.get();
}

std::size_t owned_by(const test_node& n, const std::string& id) {
  return n.node->status().shards.shards_of(id).size();
}

TEST_CASE("a node the others do not know joins when it proves the secret, takes its share by "
          "rebalancing, and serves the commands of its shards",
          "[cluster][join][rebalance]") {
  temp_dir dir;
  auto pa = free_port(), pb = free_port(), pc = free_port();
  test_node a{dir / "a", joining_config({{"a", pa, false}, {"b", pb, false}}, "a")};
  test_node b{dir / "b", joining_config({{"a", pa, false}, {"b", pb, false}}, "b")};
  REQUIRE(wait_until([&] { return a.link_is("b", cluster::link_state::up) && b.link_is("a", cluster::link_state::up); }));
  add_n(a, "before", 5);
  test_node c{dir / "c", joining_config({{"a", pa, false}, {"b", pb, false}, {"c", pc, true}}, "c")};
  REQUIRE(wait_until([&] {
    return a.link_is("c", cluster::link_state::up) && b.link_is("c", cluster::link_state::up)
           && c.link_is("a", cluster::link_state::up) && c.link_is("b", cluster::link_state::up);
  }));
  CHECK(a.node->peers() == std::vector<std::string>{"b", "c"});
  CHECK(owned_by(c, "c") == 0);

  auto report = await_rebalance(*c.node);
  REQUIRE(report);
  CHECK(report->moves.size() == 21); // 64 / 3, from a (32) and b (32)
  for (const auto& m : report->moves)
    CHECK(m.to == "c");
  REQUIRE(wait_until([&] { return owned_by(a, "c") == 21 && owned_by(b, "c") == 21; }));
  CHECK(owned_by(a, "a") + owned_by(a, "b") == 43);
  // A second rebalance finds nothing to move.
  auto again = await_rebalance(*a.node);
  REQUIRE(again);
  CHECK(again->moves.empty());
  // A counter of one of c's shards: its history moved along, commands through a reach c.
  auto map = c.node->status().shards;
  std::string id;
  for (int i = 0; id.empty() && i < 10000; ++i)
    if (map.owner(map.shard_of("counter-k" + std::to_string(i))).node == "c")
      id = "k" + std::to_string(i);
  REQUIRE_FALSE(id.empty());
  add_n(a, id, 3);
  CHECK(c.rt->store().read_stream("counter-" + id, {}).value().size() == 3);
}

TEST_CASE("a rebalance waits for every member's link and fails with unavailable when one stays "
          "down, and a second one on the node meanwhile is refused with conflict",
          "[cluster][rebalance]") {
  temp_dir dir;
  auto pa = free_port(), pb = free_port(), pz = free_port();
  // z is a member that joins and never starts: a's link to it never comes up.
  test_node a{dir / "a", joining_config({{"a", pa, false}, {"b", pb, false}, {"z", pz, true}}, "a")};
  test_node b{dir / "b", joining_config({{"a", pa, false}, {"b", pb, false}}, "b")};
  auto started = std::chrono::steady_clock::now();
  auto p = std::make_shared<std::promise<result<cluster::rebalance_report>>>();
  auto first = p->get_future();
  a.node->rebalance([p](result<cluster::rebalance_report> r) { p->set_value(std::move(r)); });
  auto second = await_rebalance(*a.node);
  REQUIRE_FALSE(second);
  CHECK(second.error().code == errc::conflict);
  REQUIRE(first.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  auto r = first.get();
  auto waited = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::unavailable);
  CHECK(r.error().message.find("'z'") != std::string::npos);
  CHECK(waited >= std::chrono::milliseconds(1400)); // the move bound of the config
  CHECK(waited < std::chrono::seconds(10));
  CHECK(owned_by(a, "a") == 32); // nothing moved
}

} // namespace rebalance_cases
