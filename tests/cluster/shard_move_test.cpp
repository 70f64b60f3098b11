// A shard moving between two real shop-node processes under a concurrent workload through
// both: its history and shard positions arrive intact on the new owner, nothing
// acknowledged is lost or applied twice, commands pause only for the move, the old owner
// refuses the shard for good (also after a restart) and forwards to the new owner.
#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "restock_workload.hpp"
#include "shop_cluster_fixture.hpp"

// The cases' own namespace: unity builds put several test files in one translation unit.
namespace shard_move_cases {

using namespace shop::test;
using annal::test::cluster_fixture;
using namespace annal::test::restocks;
using nlohmann::json;

constexpr int skus_in_shard = 4;

TEST_CASE("a shard moves between two shop nodes under load with its history and positions, "
          "nothing acknowledged lost or doubled, the old owner refusing it for good",
          "[cluster][shop][move]") {
  cluster_fixture f({"a", "b"});
  f.start_all();
  // A shard of a's, and skus whose inventory lives in it.
  auto stream_shard = [&](const std::string& stream) { return static_cast<int>(f.map.shard_of(stream)); };
  auto sku0 = f.id_owned_by("a", "inventory", "m");
  int shard = stream_shard("inventory-" + sku0);
  std::vector<std::string> skus;
  for (int i = 0; static_cast<int>(skus.size()) < skus_in_shard && i < 200000; ++i)
    if (stream_shard("inventory-m" + std::to_string(i)) == shard)
      skus.push_back("m" + std::to_string(i));
  REQUIRE(static_cast<int>(skus.size()) == skus_in_shard);
  for (const auto& sku : skus)
    REQUIRE(f.client("a").create_product(sku, "Moving " + sku, 250).status == 201);

  workload w;
  std::vector<std::thread> workers;
  for (int k = 0; k < 4; ++k)
    workers.emplace_back([&, k] { restock_loop(f, k % 2 == 0 ? "a" : "b", skus, k, w); });
  auto acked = [&] { return w.acked(); };
  REQUIRE(eventually([&] { return acked() >= 100; }, std::chrono::seconds(20)));
  auto move = f.client("a").post("/cluster/shards/" + std::to_string(shard) + "/move", json{{"to", "b"}});
  auto before_end = acked();
  REQUIRE(eventually([&] { return acked() >= before_end + 100; }, std::chrono::seconds(20)));
  w.stop = true;
  for (auto& t : workers)
    t.join();
  INFO("move: " << move.status << " " << move.text);
  REQUIRE(move.status == 200);
  CHECK(move.json["from"] == "a");
  CHECK(move.json["to"] == "b");
  CHECK(move.json["epoch"] == 2);
  CHECK(move.json["pause_ms"].get<double>() < 2000);
  CHECK(w.failed == 0);

  // Both nodes' maps say b owns the shard at epoch 2.
  for (const auto& node : {"a", "b"}) {
    REQUIRE(eventually([&] { return shard_owner(f, node, shard)["owner"] == "b"; }, std::chrono::seconds(5)));
    CHECK(shard_owner(f, node, shard)["epoch"] == 2);
  }
  // Every stream on b: versions 1..n without a gap, each acknowledged key exactly once, and
  // the shard positions of acknowledged commands distinct (none reused across the move).
  std::set<std::string> tokens;
  for (const auto& sku : skus) {
    INFO(sku);
    auto events = stream_events(f, "b", "inventory-" + sku);
    std::map<std::string, int> by_key;
    for (std::size_t i = 0; i < events.size(); ++i) {
      CHECK(events[i]["version"] == i + 1);
      ++by_key[events[i]["metadata"]["command_id"].get<std::string>()];
    }
    std::lock_guard<std::mutex> lock{w.mx};
    for (const auto& a : w.acks[sku]) {
      CHECK(by_key["http/" + a.key] == 1); // the node's command id for an Idempotency-Key
      CHECK(a.version <= events.size());
      CHECK(tokens.insert(a.token).second);
    }
    // On a the stream stopped where the move fenced it, and b holds that prefix unchanged.
    auto on_a = stream_events(f, "a", "inventory-" + sku);
    REQUIRE(on_a.size() <= events.size());
    for (std::size_t i = 0; i < on_a.size(); ++i)
      CHECK(on_a[i]["metadata"]["command_id"] == events[i]["metadata"]["command_id"]);
  }

  // Both nodes' read models (over every shard, checkpointed by shard position) count each
  // acknowledged restock once: the moved events were neither missed nor applied again.
  for (const auto& sku : skus) {
    INFO(sku);
    int64_t expected = 0;
    {
      std::lock_guard<std::mutex> lock{w.mx};
      expected = static_cast<int64_t>(w.acks[sku].size());
    }
    for (const auto& node : {"a", "b"})
      CHECK(eventually([&] {
        auto r = f.client(node).get("/inventory/" + sku);
        return r.status == 200 && r.json["on_hand"] == expected;
      }, std::chrono::seconds(10)));
  }

  // After the move a command for the shard through a is forwarded to b.
  auto via_a = f.client("a").restock(skus[0], 5);
  INFO(via_a.text);
  CHECK(via_a.status == 200);
  CHECK(stream_events(f, "a", "inventory-" + skus[0]).size() < stream_events(f, "b", "inventory-" + skus[0]).size());

  // And back to a (epoch 3) while a still holds live instances of the shard's streams
  // from before the first move: a resumes from the history it kept, and its aggregates
  // continue from b's newer events, not from the state they held in memory.
  auto back = f.client("b").post("/cluster/shards/" + std::to_string(shard) + "/move", json{{"to", "a"}});
  INFO("back: " << back.text);
  REQUIRE(back.status == 200);
  CHECK(back.json["epoch"] == 3);
  for (const auto& sku : skus) {
    INFO(sku);
    auto before = stream_events(f, "b", "inventory-" + sku);
    auto r = f.client("a").restock(sku, 1);
    INFO(r.text);
    CHECK(r.status == 200);
    CHECK(r.json["version"] == before.size() + 1);
    auto on_a = stream_events(f, "a", "inventory-" + sku);
    REQUIRE(on_a.size() == before.size() + 1);
    for (std::size_t i = 0; i < before.size(); ++i)
      CHECK(on_a[i]["metadata"]["command_id"] == before[i]["metadata"]["command_id"]);
  }

  // b restarted keeps the shard handed back: its journal says a owns it at epoch 3, and
  // it forwards there; a move asked of b, no longer the owner, is refused.
  REQUIRE(f.stop("b"));
  f.start("b");
  REQUIRE(eventually([&] { return f.all_up(); }, std::chrono::seconds(15)));
  CHECK(shard_owner(f, "b", shard)["owner"] == "a");
  CHECK(shard_owner(f, "b", shard)["epoch"] == 3);
  auto via_b = f.client("b").restock(skus[1], 5);
  INFO(via_b.text);
  CHECK(via_b.status == 200);
  auto refused = f.client("b").post("/cluster/shards/" + std::to_string(shard) + "/move", json{{"to", "a"}});
  CHECK(refused.status == 409);
}

} // namespace shard_move_cases

namespace shard_move_cases {

// Starts node `id` of `f` whose journal kills the process (SIGKILL) at crash point `at`.
void start_crashing(cluster_fixture& f, const std::string& id, const std::string& at) {
  node_launch launch;
  launch.prefix = {"/usr/bin/env", "ANNAL_JOURNAL_CRASH_AT=" + at};
  std::vector<std::string> args{"--node-id", id, "--cluster-config", (f.dir / "cluster.json").string()};
  args.insert(args.end(), f.node_args.begin(), f.node_args.end());
  f.nodes[id] = std::make_unique<node_process>(f.dir / ("data-" + id), std::move(args), launch);
}

// Restocks every sku `n` times through `via`; returns the acknowledged count.
int restock_each(cluster_fixture& f, const std::string& via, const std::vector<std::string>& skus, int n) {
  int ok = 0;
  auto c = f.client(via);
  for (int i = 0; i < n; ++i)
    for (const auto& sku : skus)
      ok += c.restock(sku, 1).status == 200 ? 1 : 0;
  return ok;
}

// The skus (up to `count`) whose inventory streams lie in the shard of the first one a owns.
std::pair<int, std::vector<std::string>> skus_of_a_shard(cluster_fixture& f, int count) {
  auto first = f.id_owned_by("a", "inventory", "k");
  int shard = static_cast<int>(f.map.shard_of("inventory-" + first));
  std::vector<std::string> out;
  for (int i = 0; static_cast<int>(out.size()) < count && i < 200000; ++i)
    if (static_cast<int>(f.map.shard_of("inventory-k" + std::to_string(i))) == shard)
      out.push_back("k" + std::to_string(i));
  return {shard, out};
}

TEST_CASE("a kill -9 of the old owner right after it recorded the hand-over: the new owner "
          "takes the shard when the old one returns, nothing acknowledged lost, and the old owner "
          "hands it the shard's payment timer",
          "[cluster][shop][move]") {
  cluster_fixture f({"a", "b"});
  f.node_args = {"--payment-timeout", "8s"};
  start_crashing(f, "a", "shard.handed_over");
  f.start("b");
  REQUIRE(eventually([&] { return f.all_up(); }, std::chrono::seconds(15)));
  auto [shard, skus] = skus_of_a_shard(f, 3);
  for (const auto& sku : skus)
    REQUIRE(f.client("b").create_product(sku, "Kept " + sku, 300).status == 201);
  REQUIRE(restock_each(f, "b", skus, 10) == 30);
  // An order of the moving shard, confirmed by a's fulfilment: its payment timer is a's.
  std::string order;
  for (int i = 0; order.empty() && i < 200000; ++i)
    if (static_cast<int>(f.map.shard_of("order-ko" + std::to_string(i))) == shard)
      order = "ko" + std::to_string(i);
  REQUIRE(f.client("b").place_order("ann", {{skus[0], 1}}, order).status == 201);
  REQUIRE(f.client("b").await_decided(order) == "confirmed");
  // a dies between its durable hand-over and telling b: no answer to the move.
  auto move = f.client("a").post("/cluster/shards/" + std::to_string(shard) + "/move", json{{"to", "b"}});
  CHECK(move.status == 0);
  CHECK(f.nodes["a"]->wait(std::chrono::seconds(10)) == -SIGKILL);
  // b still thinks a owns it, and a is gone: the shard is unavailable, not split.
  CHECK(f.client("b").restock(skus[0], 1).status == 503);
  // a returns: its journal says b owns the shard at epoch 2, b learns it at link-up.
  f.start("a");
  REQUIRE(eventually([&] { return f.all_up(); }, std::chrono::seconds(15)));
  REQUIRE(eventually([&] { return shard_owner(f, "b", shard)["owner"] == "b"; }, std::chrono::seconds(5)));
  CHECK(shard_owner(f, "b", shard)["epoch"] == 2);
  CHECK(shard_owner(f, "a", shard)["owner"] == "b");
  for (const auto& sku : skus) {
    INFO(sku);
    auto r = f.client("a").restock(sku, 1);
    CHECK(r.status == 200);
    auto reserved = sku == skus[0] ? 1u : 0u; // the order's reservation
    CHECK(r.json["version"] == 11 + reserved);
    CHECK(stream_events(f, "b", "inventory-" + sku).size() == 11 + reserved);
    CHECK(stream_events(f, "a", "inventory-" + sku).size() == 10 + reserved);
  }
  // a, back, hands the order's payment timer to b (its sweep), which fires it.
  auto b = f.client("b");
  CHECK(eventually([&] { return b.order(order).json["status"] == "cancelled"; }, std::chrono::seconds(40)));
  CHECK(b.order(order).json["reason"] == "payment timeout");
}

TEST_CASE("a kill -9 of the new owner during the copy fails the move, the old owner serves the "
          "shard again, and a second move resumes the copy",
          "[cluster][shop][move]") {
  cluster_fixture f({"a", "b"});
  f.start("a");
  start_crashing(f, "b", "import.committed");
  REQUIRE(eventually([&] { return f.all_up(); }, std::chrono::seconds(15)));
  auto [shard, skus] = skus_of_a_shard(f, 3);
  for (const auto& sku : skus)
    REQUIRE(f.client("a").create_product(sku, "Kept " + sku, 300).status == 201);
  REQUIRE(restock_each(f, "a", skus, 10) == 30);
  auto t0 = std::chrono::steady_clock::now();
  auto move = f.client("a").post("/cluster/shards/" + std::to_string(shard) + "/move", json{{"to", "b"}});
  INFO(move.text);
  CHECK(move.status == 503);
  // The lost connection fails the move at once, not after move_timeout (60 s).
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
  CHECK(f.nodes["b"]->wait(std::chrono::seconds(10)) == -SIGKILL);
  CHECK(shard_owner(f, "a", shard)["owner"] == "a");
  f.start("b");
  REQUIRE(eventually([&] { return f.all_up(); }, std::chrono::seconds(15)));
  CHECK(f.client("a").restock(skus[0], 1).status == 200); // a serves it: not fenced
  auto again = f.client("a").post("/cluster/shards/" + std::to_string(shard) + "/move", json{{"to", "b"}});
  INFO(again.text);
  REQUIRE(again.status == 200);
  for (const auto& sku : skus) {
    INFO(sku);
    auto on_a = stream_events(f, "a", "inventory-" + sku);
    auto on_b = stream_events(f, "b", "inventory-" + sku);
    REQUIRE(on_a.size() == on_b.size());
    for (std::size_t i = 0; i < on_a.size(); ++i) {
      CHECK(on_b[i]["version"] == i + 1);
      CHECK(on_a[i]["metadata"]["command_id"] == on_b[i]["metadata"]["command_id"]);
    }
    CHECK(f.client("b").restock(sku, 1).json["version"] == on_a.size() + 1);
  }
}

TEST_CASE("a payment timer moves with its order's shard: with the old owner killed after the move, "
          "the new owner cancels the unpaid order on time",
          "[cluster][shop][move][timer]") {
  cluster_fixture f({"a", "b"});
  f.node_args = {"--payment-timeout", "5s"};
  f.start_all();
  // The stock on b, the order on a: once a is gone, only b's timer can end the order.
  auto sku = f.id_owned_by("b", "inventory", "pt-sku-");
  auto order = f.id_owned_by("a", "order", "pt-order-");
  auto shard = static_cast<int>(f.map.shard_of("order-" + order));
  REQUIRE(f.client("b").create_product(sku, "Timed " + sku, 100).status == 201);
  REQUIRE(f.client("b").restock(sku, 5).status == 200);
  auto a = f.client("a");
  REQUIRE(a.place_order("ann", {{sku, 2}}, order).status == 201);
  REQUIRE(a.await_decided(order) == "confirmed"); // a's fulfilment scheduled the timer
  auto move = a.post("/cluster/shards/" + std::to_string(shard) + "/move", json{{"to", "b"}});
  INFO(move.text);
  REQUIRE(move.status == 200);
  f.nodes["a"]->kill9();
  auto b = f.client("b");
  CHECK(eventually([&] { return b.order(order).json["status"] == "cancelled"; }, std::chrono::seconds(30)));
  CHECK(b.order(order).json["reason"] == "payment timeout");
  CHECK(eventually([&] { return b.get("/inventory/" + sku).json["reserved"] == 0; }, std::chrono::seconds(10)));
  auto trail = stream_events(f, "b", "order-" + order);
  REQUIRE_FALSE(trail.empty());
  CHECK(trail.back()["metadata"]["command_id"].get<std::string>().rfind("timer/", 0) == 0);
}

TEST_CASE("a shard moves on only once its owner has the previous owner's process state: a payment "
          "timer survives a hand-over whose old owner died before sending it, and the next move",
          "[cluster][shop][move][timer]") {
  cluster_fixture f({"a", "b", "c"});
  f.node_args = {"--payment-timeout", "10s"};
  start_crashing(f, "a", "shard.handed_over");
  f.start("b");
  f.start("c");
  REQUIRE(eventually([&] { return f.all_up(); }, std::chrono::seconds(15)));
  auto sku = f.id_owned_by("b", "inventory", "ch-sku-"); // the stock stays put
  auto order = f.id_owned_by("a", "order", "ch-order-");
  auto shard = static_cast<int>(f.map.shard_of("order-" + order));
  REQUIRE(f.client("b").create_product(sku, "Chained " + sku, 100).status == 201);
  REQUIRE(f.client("b").restock(sku, 5).status == 200);
  REQUIRE(f.client("a").place_order("ann", {{sku, 2}}, order).status == 201);
  REQUIRE(f.client("a").await_decided(order) == "confirmed"); // the payment timer is a's
  // a dies between its durable hand-over to b and handing b its process state.
  auto move = f.client("a").post("/cluster/shards/" + std::to_string(shard) + "/move", json{{"to", "b"}});
  CHECK(move.status == 0);
  CHECK(f.nodes["a"]->wait(std::chrono::seconds(10)) == -SIGKILL);
  f.start("a");
  REQUIRE(eventually([&] { return f.all_up(); }, std::chrono::seconds(15)));
  REQUIRE(eventually([&] { return shard_owner(f, "b", shard)["owner"] == "b"; }, std::chrono::seconds(5)));
  // b moves the shard on at once: the move waits until a's rows reached b (a's sweep), so
  // that they travel on with b's; moved first, they would reach c as a stale copy.
  auto on = f.client("b").post("/cluster/shards/" + std::to_string(shard) + "/move", json{{"to", "c"}});
  INFO(on.text);
  REQUIRE(on.status == 200);
  CHECK(on.json["epoch"] == 3);
  auto c = f.client("c");
  CHECK(eventually([&] { return c.order(order).json["status"] == "cancelled"; }, std::chrono::seconds(40)));
  CHECK(c.order(order).json["reason"] == "payment timeout");
  auto trail = stream_events(f, "c", "order-" + order);
  REQUIRE_FALSE(trail.empty());
  CHECK(trail.back()["metadata"]["command_id"].get<std::string>().rfind("timer/", 0) == 0);
}

} // namespace shard_move_cases
