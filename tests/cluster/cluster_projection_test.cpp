// A read model covering every shard on each node (cluster_projection): both nodes converge
// to the same content, live commands reach it pushed by their owners, and a restarted projection
// resumes from its per-shard checkpoints without applying anything twice.
#include <catch2/catch.hpp>

#include <future>
#include <map>
#include <thread>

#include "annal/cluster/cluster_config.hpp"
#include "annal/cluster/cluster_projection.hpp"
#include "cluster_harness.hpp"

using namespace annal;
using namespace annal::cluster;
using annal::test::test_node;
using annal::test::wait_until;

namespace {

// The read model: events per stream ("events" table) and every (stream, version) applied
// ("seen"); an event applied twice leaves a row in "twice".
struct event_counts {
  table_id events = 0, seen = 0, twice = 0;

  explicit event_counts(read_model_store& store) {
    events = *store.table("counts.events");
    seen = *store.table("counts.seen");
    twice = *store.table("counts.twice");
  }

  shard_event_handler handler() const {
    auto self = *this;
    return [self](read_model_txn& t, const recorded_event& e) -> status {
      auto key = e.stream_id + "#" + std::to_string(e.version);
      auto was = t.get(self.seen, key);
      if (!was)
        return std::move(was).error();
      if (*was)
        return t.put(self.twice, key, "1");
      if (auto ok = t.put(self.seen, key, "1"); !ok)
        return ok;
      auto n = t.get(self.events, e.stream_id);
      if (!n)
        return std::move(n).error();
      auto count = *n ? std::stoull(std::string{**n}) : 0;
      return t.put(self.events, e.stream_id, std::to_string(count + 1));
    };
  }

  // stream -> events applied, and the number of events applied twice.
  std::pair<std::map<std::string, uint64_t>, uint64_t> content(read_model_store& store) const {
    std::map<std::string, uint64_t> out;
    uint64_t dupes = 0;
    (void)store.read([&](const read_model_txn& t) -> status {
      (void)t.scan(events, {}, [&](std::string_view k, std::string_view v) {
        out[std::string{k}] = std::stoull(std::string{v});
        return true;
      });
      return t.scan(twice, {}, [&](std::string_view, std::string_view) {
        ++dupes;
        return true;
      });
    });
    return {out, dupes};
  }
};

uint64_t total_of(const std::map<std::string, uint64_t>& m) {
  uint64_t n = 0;
  for (const auto& [k, v] : m)
    n += v;
  return n;
}

std::unique_ptr<cluster_projection> start_counts(test_node& n, const event_counts& counts) {
  cluster_projection_options o;
  o.name = "counts";
  auto p = cluster_projection::start(*n.node, n.rt->read_models(), o, counts.handler());
  REQUIRE(p);
  return std::move(*p);
}

} // namespace

TEST_CASE("a cluster projection on each node covers every shard, the nodes converge, and a "
          "restarted projection applies nothing twice",
          "[cluster][cluster_projection]") {
  annal::test::two_nodes nodes;
  auto& a = nodes.a;
  auto& b = nodes.b;
  for (int i = 0; i < 30; ++i)
    annal::test::add_n(i % 2 ? a : b, "p" + std::to_string(i), 3);
  event_counts on_a{a.rt->read_models()}, on_b{b.rt->read_models()};
  auto pa = start_counts(a, on_a);
  auto pb = start_counts(b, on_b);
  auto converged = [&](uint64_t total) {
    auto ca = on_a.content(a.rt->read_models());
    auto cb = on_b.content(b.rt->read_models());
    return total_of(ca.first) == total && ca == cb;
  };
  REQUIRE(wait_until([&] { return converged(90); }));
  auto [rows, dupes] = on_a.content(a.rt->read_models());
  CHECK(rows.size() == 30);
  CHECK(dupes == 0);
  CHECK(pa->applied() == 90);
  CHECK(pb->applied() == 90);

  // Live: commands while the projections run reach both.
  for (int i = 0; i < 10; ++i)
    annal::test::add_n(i % 2 ? b : a, "p" + std::to_string(i), 2);
  REQUIRE(wait_until([&] { return converged(110); }));

  // b's projection stops; commands meanwhile; a new one resumes from the stored checkpoints.
  pb.reset();
  for (int i = 0; i < 5; ++i)
    annal::test::add_n(i % 2 ? a : b, "q" + std::to_string(i), 4);
  auto pb2 = start_counts(b, on_b);
  REQUIRE(wait_until([&] { return converged(130); }));
  CHECK(pb2->applied() == 20); // only the events committed after the checkpoints
  CHECK(on_b.content(b.rt->read_models()).second == 0);
  CHECK(on_a.content(a.rt->read_models()).second == 0);
  uint64_t sum = 0;
  for (auto p : pb2->positions())
    sum += p;
  CHECK(sum == 130); // no gaps: every shard's checkpoint is its head

  // Read-your-writes with the reply's token, through either node.
  for (auto* via : {&a, &b}) {
    auto r = via->rt->send<ctr::counter>("token", ctr::add{1, "t"}).get();
    REQUIRE(r);
    REQUIRE(r->shard_position > 0);
    REQUIRE(pb2->wait_for(r->shard, r->shard_position, std::chrono::seconds(5)));
    REQUIRE(pa->wait_for(r->shard, r->shard_position, std::chrono::seconds(5)));
    auto version = r->version;
    CHECK(on_b.content(b.rt->read_models()).first[aggregate_traits<ctr::counter>::stream_id("token")] == version);
    CHECK(on_a.content(a.rt->read_models()).first[aggregate_traits<ctr::counter>::stream_id("token")] == version);
  }
  auto far = pb2->wait_for(0, 1000000, std::chrono::milliseconds(100));
  REQUIRE_FALSE(far);
  CHECK(far.error().code == errc::timeout);
}

TEST_CASE("a cluster projection empties its tables when it starts without a checkpoint, not after",
          "[cluster][cluster_projection]") {
  annal::test::temp_dir dir;
  std::vector<std::pair<std::string, uint16_t>> members{{"a", annal::test::free_port()}};
  test_node a{dir / "a", annal::test::loopback_config(members, "a")};
  for (int i = 0; i < 4; ++i)
    annal::test::add_n(a, "p" + std::to_string(i), 2);
  auto& store = a.rt->read_models();
  event_counts counts{store};
  // Rows a node kept of its own journal before it joined: they must not count twice.
  REQUIRE(store.write([&](read_model_txn& t) { return t.put(counts.events, "stale-row", "5"); }));
  cluster_projection_options o;
  o.name = "counts";
  o.tables = {"counts.events", "counts.seen", "counts.twice"};
  auto p = cluster_projection::start(*a.node, store, o, counts.handler());
  REQUIRE(p);
  REQUIRE(wait_until([&] { return total_of(counts.content(store).first) == 8; }));
  CHECK(counts.content(store).first.count("stale-row") == 0);
  p->reset();
  // A restart with checkpoints keeps what the projection wrote.
  auto again = cluster_projection::start(*a.node, store, o, counts.handler());
  REQUIRE(again);
  CHECK(total_of(counts.content(store).first) == 8);
  CHECK((*again)->applied() == 0);
}

TEST_CASE("commits reach cluster projections on every node pushed, long before a round of "
          "every shard would read them",
          "[cluster][cluster_projection]") {
  annal::test::two_nodes nodes;
  auto& a = nodes.a;
  auto& b = nodes.b;
  event_counts on_a{a.rt->read_models()}, on_b{b.rt->read_models()};
  cluster_projection_options o;
  o.name = "counts";
  o.idle_poll = std::chrono::seconds(8); // a full round (the fallback) only every 8 s
  auto pa = cluster_projection::start(*a.node, a.rt->read_models(), o, on_a.handler());
  auto pb = cluster_projection::start(*b.node, b.rt->read_models(), o, on_b.handler());
  REQUIRE(pa);
  REQUIRE(pb);
  std::this_thread::sleep_for(std::chrono::milliseconds(500)); // both idle, watches parked
  for (int i = 0; i < 6; ++i) { // streams of both owners, through both nodes
    auto r = (i % 2 ? a : b).rt->send<ctr::counter>("push-" + std::to_string(i), ctr::add{1, "t"}).get();
    REQUIRE(r);
    auto t0 = std::chrono::steady_clock::now();
    for (auto* p : {&*pa, &*pb})
      REQUIRE(wait_until([&] { return (*p)->positions()[r->shard] >= r->shard_position; },
                         std::chrono::seconds(6)));
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK(on_a.content(a.rt->read_models()) == on_b.content(b.rt->read_models()));
  CHECK(on_a.content(a.rt->read_models()).second == 0);
}

namespace {

// The first "<prefix><n>" whose counter stream node `owner` owns.
std::string counter_owned_by(const test_node& n, const std::string& owner, const std::string& prefix) {
  auto map = n.node->status().shards;
  for (int i = 0;; ++i) {
    auto id = prefix + std::to_string(i);
    if (map.owner(map.shard_of(aggregate_traits<ctr::counter>::stream_id(id))).node == owner)
      return id;
  }
}

} // namespace

TEST_CASE("a projection woken by a local commit still hears the peer's next commit at once "
          "(its watch is renewed when it expires, not at the next fallback round)",
          "[cluster][cluster_projection]") {
  annal::test::two_nodes nodes;
  auto& a = nodes.a;
  auto& b = nodes.b;
  event_counts on_b{b.rt->read_models()};
  cluster_projection_options o;
  o.name = "counts";
  o.idle_poll = std::chrono::seconds(3); // b's watch on a expires ~3 s after start
  auto p = cluster_projection::start(*b.node, b.rt->read_models(), o, on_b.handler());
  REQUIRE(p);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  // A local commit at 1.5 s restarts b's wait: its fallback round comes at ~4.5 s.
  REQUIRE(b.rt->send<ctr::counter>(counter_owned_by(b, "b", "local-"), ctr::add{1, "t"}).get());
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  // At 3.5 s, after the first watch expired: a's commit must still be pushed.
  auto r = a.rt->send<ctr::counter>(counter_owned_by(a, "a", "remote-"), ctr::add{1, "t"}).get();
  REQUIRE(r);
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(wait_until([&] { return (*p)->positions()[r->shard] >= r->shard_position; },
                     std::chrono::seconds(5)));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(500));
}
