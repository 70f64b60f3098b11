// Forwarding between runtimes in one process over CAF's middleman on 127.0.0.1: commands
// reach the owner's journal, an unreachable owner fails fast with unavailable and is used
// again when it returns, a wrong secret is refused, stale epochs are fenced.
#include <catch2/catch.hpp>

#include "annal/cluster/cluster_config.hpp"
#include "cluster_harness.hpp"

using namespace annal;
using namespace annal::cluster;
using annal::test::test_node;
using annal::test::wait_until;

namespace {

const std::string good_secret = "correct-horse-battery-staple-42";

// Two (or more) members on free ports; `secret` is this node's view of the secret.
cluster_config make_config(const std::vector<std::pair<std::string, uint16_t>>& members,
                           const std::string& self, const std::string& secret,
                           const std::string& extra = "") {
  std::string text = R"({"shard_count": 16, "secret_env": "ANNAL_TEST_SECRET_)" + self + R"(", "members": [)";
  for (std::size_t i = 0; i < members.size(); ++i)
    text += (i ? ", " : "") + std::string{R"({"id": ")"} + members[i].first + R"(", "host": "127.0.0.1", "port": )"
            + std::to_string(members[i].second) + "}";
  text += "]" + extra + "}";
  ::setenv(("ANNAL_TEST_SECRET_" + self).c_str(), secret.c_str(), 1);
  auto cfg = parse_cluster_config(text, self);
  if (!cfg)
    throw std::runtime_error(cfg.error().to_string());
  return std::move(*cfg);
}

// An aggregate id of the counter whose shard `owner` owns in `cfg`.
std::string id_owned_by(const shard_map& map, const std::string& owner, int skip = 0) {
  for (int i = 0;; ++i) {
    auto id = "c" + std::to_string(i);
    if (map.owner(map.shard_of(aggregate_traits<ctr::counter>::stream_id(id))).node == owner
        && skip-- == 0)
      return id;
  }
}

command_result send_add(test_node& n, const std::string& id, int64_t amount,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  command_options o;
  o.timeout = timeout;
  auto f = n.rt->send<ctr::counter>(id, ctr::add{amount, "t"}, o);
  if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
    return make_error(errc::io_error, "no outcome within 10 s");
  return f.get();
}

} // namespace

TEST_CASE("a command sent through a node that does not own the aggregate runs on the owner",
          "[cluster][forwarding]") {
  annal::test::temp_dir dir;
  std::vector<std::pair<std::string, uint16_t>> members{{"a", annal::test::free_port()},
                                                        {"b", annal::test::free_port()}};
  test_node a{dir / "a", make_config(members, "a", good_secret)};
  test_node b{dir / "b", make_config(members, "b", good_secret)};
  REQUIRE(wait_until([&] { return b.link_is("a", link_state::up) && a.link_is("b", link_state::up); }));
  const auto& cfg = a.node->status();
  auto on_a = id_owned_by(cfg.shards, "a");
  auto on_b = id_owned_by(cfg.shards, "b");

  auto r1 = send_add(b, on_a, 5);
  REQUIRE(r1);
  CHECK(r1->version == 1);
  auto r2 = send_add(a, on_a, 6);
  REQUIRE(r2);
  CHECK(r2->version == 2);
  auto r3 = send_add(a, on_b, 7);
  REQUIRE(r3);
  auto stream_a = aggregate_traits<ctr::counter>::stream_id(on_a);
  auto stream_b = aggregate_traits<ctr::counter>::stream_id(on_b);
  CHECK(a.rt->store().read_stream(stream_a)->size() == 2);
  CHECK(b.rt->store().read_stream(stream_a)->empty());
  CHECK(b.rt->store().read_stream(stream_b)->size() == 1);
  CHECK(a.rt->store().read_stream(stream_b)->empty());

  // The owner's answers, errors included, come back unchanged.
  command_options exact;
  exact.expected = expected_version::exact(1);
  auto f = b.rt->send<ctr::counter>(on_a, ctr::add{1, "t"}, exact);
  auto conflict = f.get();
  REQUIRE_FALSE(conflict);
  CHECK(conflict.error().code == errc::conflict);
  command_options idem;
  idem.command_id = "same";
  REQUIRE(b.rt->send<ctr::counter>(on_a, ctr::add{1, "t"}, idem).get());
  auto again = b.rt->send<ctr::counter>(on_a, ctr::add{1, "t"}, idem).get();
  REQUIRE(again);
  CHECK(again->duplicate);
}

TEST_CASE("a command's reply names the shard and shard position of its event, locally and "
          "when forwarded",
          "[cluster][forwarding][token]") {
  annal::test::temp_dir dir;
  std::vector<std::pair<std::string, uint16_t>> members{{"a", annal::test::free_port()},
                                                        {"b", annal::test::free_port()}};
  test_node a{dir / "a", make_config(members, "a", good_secret)};
  test_node b{dir / "b", make_config(members, "b", good_secret)};
  REQUIRE(wait_until([&] { return b.link_is("a", link_state::up) && a.link_is("b", link_state::up); }));
  auto on_a = id_owned_by(a.node->status().shards, "a");
  auto on_a2 = id_owned_by(a.node->status().shards, "a", 1);
  auto stream = aggregate_traits<ctr::counter>::stream_id(on_a);
  // The event each reply names, as the owner's journal stored it.
  auto stored = [&](const command_reply& r) {
    auto evs = a.rt->store().read_stream(stream, stream_range{r.version, r.version, 1});
    REQUIRE(evs);
    REQUIRE(evs->size() == 1);
    return evs->front();
  };
  REQUIRE(send_add(a, on_a2, 1)); // another stream first: shard positions are not versions
  auto local = send_add(a, on_a, 2);
  REQUIRE(local);
  auto forwarded = send_add(b, on_a, 3);
  REQUIRE(forwarded);
  for (const auto* r : {&*local, &*forwarded}) {
    auto e = stored(*r);
    CHECK(r->position == e.position);
    CHECK(r->shard == e.shard);
    CHECK(r->shard_position == e.shard_position);
    CHECK(r->shard_position > 0);
  }
  CHECK(forwarded->shard_position > local->shard_position);

  // A repeated command id answers the first result's token.
  command_options idem;
  idem.command_id = "token-1";
  auto first = b.rt->send<ctr::counter>(on_a, ctr::add{1, "t"}, idem).get();
  REQUIRE(first);
  auto again = b.rt->send<ctr::counter>(on_a, ctr::add{1, "t"}, idem).get();
  REQUIRE(again);
  CHECK(again->duplicate);
  CHECK(again->shard == first->shard);
  CHECK(again->shard_position == first->shard_position);
}

TEST_CASE("an unreachable owner fails forwarded commands with unavailable within the bound, "
          "and commands reach it again when it returns",
          "[cluster][forwarding]") {
  annal::test::temp_dir dir;
  std::vector<std::pair<std::string, uint16_t>> members{{"a", annal::test::free_port()},
                                                        {"b", annal::test::free_port()}};
  auto a = std::make_unique<test_node>(dir / "a", make_config(members, "a", good_secret));
  test_node b{dir / "b", make_config(members, "b", good_secret)};
  REQUIRE(wait_until([&] { return b.link_is("a", link_state::up); }));
  auto shards = b.node->status().shards;
  auto on_a = id_owned_by(shards, "a");
  auto on_b = id_owned_by(shards, "b");
  REQUIRE(send_add(b, on_a, 1));

  a.reset(); // a stops (its port closes)
  REQUIRE(wait_until([&] { return !b.link_is("a", link_state::up); }));
  auto t0 = std::chrono::steady_clock::now();
  auto r = send_add(b, on_a, 1);
  auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::unavailable);
  CHECK(took < std::chrono::milliseconds(1100));
  REQUIRE(send_add(b, on_b, 1)); // b's own shards keep working

  a = std::make_unique<test_node>(dir / "a", make_config(members, "a", good_secret));
  REQUIRE(wait_until([&] { return b.link_is("a", link_state::up); }));
  auto back = send_add(b, on_a, 1);
  REQUIRE(back);
  CHECK(back->version == 2); // the first, acknowledged command is still there
}

TEST_CASE("a node with the wrong secret is refused and cannot forward", "[cluster][forwarding][secret]") {
  annal::test::temp_dir dir;
  std::vector<std::pair<std::string, uint16_t>> members{{"a", annal::test::free_port()},
                                                        {"b", annal::test::free_port()}};
  test_node a{dir / "a", make_config(members, "a", good_secret)};
  test_node b{dir / "b", make_config(members, "b", "a-wrong-secret-of-enough-length")};
  REQUIRE(wait_until([&] { return b.link_is("a", link_state::refused) && a.link_is("b", link_state::refused); }));
  auto shards = b.node->status().shards;
  auto r = send_add(b, id_owned_by(shards, "a"), 1);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::unavailable);
  auto r2 = send_add(a, id_owned_by(shards, "b"), 1);
  REQUIRE_FALSE(r2);
  CHECK(r2.error().code == errc::unavailable);
  CHECK(a.rt->store().last_position().value_or(0) == 0);
  CHECK(b.rt->store().last_position().value_or(0) == 0);
}

TEST_CASE("a node with a stale shard map learns the owner's epoch when its link comes up, "
          "and its commands then run on the owner",
          "[cluster][forwarding][fencing]") {
  annal::test::temp_dir dir;
  std::vector<std::pair<std::string, uint16_t>> members{{"a", annal::test::free_port()},
                                                        {"b", annal::test::free_port()}};
  auto plain = make_config(members, "a", good_secret);
  auto on_a = id_owned_by(plain.shards, "a");
  auto shard = plain.shards.shard_of(aggregate_traits<ctr::counter>::stream_id(on_a));
  // a owns the shard at epoch 2; b's configured map is stale (epoch 1). The endpoint's
  // refusal of a command sent for the old epoch: admission_test.cpp.
  auto bumped = R"(, "shards": {")" + std::to_string(shard) + R"(": {"owner": "a", "epoch": 2}})";
  test_node a{dir / "a", make_config(members, "a", good_secret, bumped)};
  test_node b{dir / "b", make_config(members, "b", good_secret)};
  REQUIRE(wait_until([&] { return b.link_is("a", link_state::up); }));
  REQUIRE(wait_until([&] { return b.node->status().shards.owner(shard).epoch == 2; }));
  auto r = send_add(b, on_a, 1);
  REQUIRE(r);
  CHECK(a.rt->store().last_position().value_or(0) == 1);
  CHECK(b.rt->store().last_position().value_or(0) == 0);
}
