// Reads of a stream another node owns (cluster_node::read_stream, load_remote<A>): the
// owner's journal answers, only the events after the caller's version travel, long
// streams come in several answers, and an unreachable owner or a stale map is refused.
#include <catch2/catch.hpp>

#include <future>

#include "annal/cluster/cluster_config.hpp"
#include "annal/cluster/remote_load.hpp"
#include "cluster_harness.hpp"

using namespace annal;
using namespace annal::cluster;
using annal::test::test_node;
using annal::test::wait_until;

namespace {

using counter_view = aggregate_view<ctr::state>;

std::string counter_id_owned_by(const shard_map& map, const std::string& owner) {
  for (int i = 0;; ++i) {
    auto id = "r" + std::to_string(i);
    if (map.owner(map.shard_of(aggregate_traits<ctr::counter>::stream_id(id))).node == owner)
      return id;
  }
}

// load_remote<counter> through `via`, waited for (bounded).
result<counter_view> load_via(test_node& via, const std::string& id, counter_view base = {}) {
  auto p = std::make_shared<std::promise<result<counter_view>>>();
  auto f = p->get_future();
  load_remote<ctr::counter>(*via.node, via.rt->registry(), id, std::move(base),
                            [p](result<counter_view> r) { p->set_value(std::move(r)); });
  if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
    return make_error(errc::io_error, "no answer within 10 s");
  return f.get();
}

} // namespace

TEST_CASE("a node loads an aggregate another node owns from the owner's journal, reading only "
          "the events after the version it holds",
          "[cluster][remote_read]") {
  annal::test::temp_dir dir;
  std::vector<std::pair<std::string, uint16_t>> members{{"a", annal::test::free_port()},
                                                        {"b", annal::test::free_port()}};
  test_node a{dir / "a", annal::test::loopback_config(members, "a", 16)};
  test_node b{dir / "b", annal::test::loopback_config(members, "b", 16)};
  REQUIRE(wait_until([&] { return b.link_is("a", link_state::up) && a.link_is("b", link_state::up); }));
  auto on_a = counter_id_owned_by(a.node->status().shards, "a");
  REQUIRE(b.node->is_remote(aggregate_traits<ctr::counter>::stream_id(on_a)));
  REQUIRE_FALSE(a.node->is_remote(aggregate_traits<ctr::counter>::stream_id(on_a)));

  auto none = load_via(b, on_a);
  REQUIRE_FALSE(none);
  CHECK(none.error().code == errc::not_found);

  annal::test::add_n(a, on_a, 3, 5);
  auto full = load_via(b, on_a);
  REQUIRE(full);
  CHECK(full->version == 3);
  CHECK(full->state.total == 15);
  CHECK(full->position == a.rt->store().stream_head(aggregate_traits<ctr::counter>::stream_id(on_a))->last_position);
  // The same through the owner (a local read) agrees.
  auto local = load_via(a, on_a);
  REQUIRE(local);
  CHECK(local->state == full->state);

  // From a base at version 3 only events 4.. are applied: a base total of 1000 shows it.
  annal::test::add_n(b, on_a, 2, 7); // forwarded to a
  counter_view base{ctr::state{1000, 3}, 3, 0};
  auto after = load_via(b, on_a, base);
  REQUIRE(after);
  CHECK(after->version == 5);
  CHECK(after->state.total == 1014);

  // A stream longer than one answer (1000 events) comes in several.
  annal::test::add_n(a, on_a, 1100, 1);
  auto longer = load_via(b, on_a);
  REQUIRE(longer);
  CHECK(longer->version == 1105);
  CHECK(longer->state.total == 15 + 14 + 1100);
}

TEST_CASE("a remote read fails with unavailable when the owner is gone, and succeeds once a "
          "stale reader learned the owner's epoch",
          "[cluster][remote_read]") {
  annal::test::temp_dir dir;
  std::vector<std::pair<std::string, uint16_t>> members{{"a", annal::test::free_port()},
                                                        {"b", annal::test::free_port()}};
  auto plain = annal::test::loopback_config(members, "a", 16);
  auto on_a = counter_id_owned_by(plain.shards, "a");
  auto shard = plain.shards.shard_of(aggregate_traits<ctr::counter>::stream_id(on_a));
  // a owns the shard at epoch 2; b's map says epoch 1.
  auto bumped = R"(, "shards": {")" + std::to_string(shard) + R"(": {"owner": "a", "epoch": 2}})";
  auto a = std::make_unique<test_node>(dir / "a", annal::test::loopback_config(members, "a", 16, bumped));
  test_node b{dir / "b", annal::test::loopback_config(members, "b", 16)};
  REQUIRE(wait_until([&] { return b.link_is("a", link_state::up); }));
  annal::test::add_n(*a, on_a, 1, 1);
  // b's map is healed by the exchange at link-up; the read then goes to a at epoch 2.
  REQUIRE(wait_until([&] { return b.node->status().shards.owner(shard).epoch == 2; }));
  REQUIRE(load_via(b, on_a));

  a.reset();
  REQUIRE(wait_until([&] { return !b.link_is("a", link_state::up); }));
  auto t0 = std::chrono::steady_clock::now();
  auto gone = load_via(b, on_a);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1100));
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code == errc::unavailable);
}

TEST_CASE("remote stream reads and shard reads carry each event's metadata (command, correlation "
          "and causation ids)",
          "[cluster][remote_read]") {
  annal::test::two_nodes nodes;
  auto on_a = counter_id_owned_by(nodes.a.node->status().shards, "a");
  auto stream = aggregate_traits<ctr::counter>::stream_id(on_a);
  command_options o;
  o.command_id = "cmd-audit-1";
  o.correlation_id = "corr-audit-1";
  o.causation_id = "cause-audit-1";
  auto sent = nodes.b.rt->send<ctr::counter>(on_a, ctr::add{2, "t"}, o).get(); // forwarded to a
  REQUIRE(sent);
  auto check = [&](const recorded_event& e) {
    CHECK(e.metadata.command_id == "cmd-audit-1");
    CHECK(e.metadata.correlation_id == "corr-audit-1");
    CHECK(e.metadata.causation_id == "cause-audit-1");
  };

  auto read = std::make_shared<std::promise<result<remote_stream>>>();
  auto read_done = read->get_future();
  nodes.b.node->read_stream(stream, 0, [read](result<remote_stream> r) { read->set_value(std::move(r)); });
  REQUIRE(read_done.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  auto events = read_done.get();
  REQUIRE(events);
  REQUIRE(events->events.size() == 1);
  check(events->events.front());

  auto shard = std::make_shared<std::promise<result<shard_events>>>();
  auto shard_done = shard->get_future();
  nodes.b.node->read_shard(sent->shard, 0, 0, 0, [shard](result<shard_events> r) { shard->set_value(std::move(r)); });
  REQUIRE(shard_done.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  auto in_shard = shard_done.get();
  REQUIRE(in_shard);
  bool found = false;
  for (const auto& e : in_shard->events)
    if (e.stream_id == stream) {
      found = true;
      check(e);
    }
  CHECK(found);
}
