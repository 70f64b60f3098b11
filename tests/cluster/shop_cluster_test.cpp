// Three real shop-node processes on 127.0.0.1 as one cluster: commands sent through every
// node land in their owner's journal; kill -9 of a node makes commands for its shards fail
// fast with `unavailable` while the others keep working; a node started with the wrong
// secret is refused; the node restarted serves again and lost nothing acknowledged.
#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <fstream>
#include <mutex>
#include <thread>
#include <map>

#include "child_run.hpp"
#include "shop_cluster_fixture.hpp"

using namespace shop::test;
using annal::test::cluster_fixture;
using annal::test::ids;
using nlohmann::json;

namespace {

// An acknowledged product creation: which product, through which node, where it landed.
struct ack {
  std::string sku;
  std::string via;
  uint64_t position = 0;
};

// True when `sku`'s creation is in node `id`'s journal at `position`.
bool on_node(const cluster_fixture& f, const std::string& id, const ack& a) {
  auto r = f.client(id).get("/streams/product-" + a.sku + "/events?from=1&limit=1");
  return r.status == 200 && r.json["events"].size() == 1 && r.json["events"][0]["position"] == a.position;
}

bool absent_on(const cluster_fixture& f, const std::string& id, const std::string& sku) {
  auto r = f.client(id).get("/streams/product-" + sku + "/events?from=1&limit=1");
  return r.status == 404 || (r.status == 200 && r.json["events"].empty()); // 404: no such stream
}

} // namespace

TEST_CASE("three shop nodes: commands through every node land on the owner, kill -9 fails fast, "
          "a wrong secret is refused, a restart loses nothing",
          "[cluster][shop]") {
  cluster_fixture f;
  f.start_all();
  // The operator's view, through `annal cluster status`.
  auto cli = annal::test::run_child(ANNAL_BINARY, {"--json", "cluster", "status", "--url", f.nodes["b"]->url()},
                                    std::chrono::seconds(10));
  INFO(cli.output);
  REQUIRE(cli.exit_code == 0);
  auto view = json::parse(cli.output)["status"];
  CHECK(view["node"] == "b");
  CHECK(view["shards"].size() == 64);
  for (const auto& m : view["members"])
    CHECK(m["health"] == "up");

  // Twelve products per node, created through every node (most of them forwarded).
  std::vector<ack> acks;
  for (const auto& via : ids) {
    auto c = f.client(via);
    for (int i = 0; i < 12; ++i) {
      auto sku = via + "-sku-" + std::to_string(i);
      auto r = c.create_product(sku, "Item " + sku, 100 + i);
      INFO(sku << " via " << via << ": " << r.text);
      REQUIRE(r.status == 201);
      acks.push_back({sku, via, r.json["position"].get<uint64_t>()});
    }
  }
  std::map<std::string, int> forwarded;
  for (const auto& a : acks) {
    auto owner = f.owner_of_sku(a.sku);
    INFO(a.sku << " owned by " << owner << " via " << a.via);
    CHECK(on_node(f, owner, a));
    for (const auto& other : ids)
      if (other != owner)
        CHECK(absent_on(f, other, a.sku));
    if (owner != a.via)
      ++forwarded[a.via];
  }
  for (const auto& id : ids)
    CHECK(forwarded[id] > 0); // every node forwarded some

  // kill -9 c: its shards fail fast, the others keep working.
  f.nodes["c"]->kill9();
  REQUIRE(eventually([&] { return f.health("a", "c") != "up" && f.health("b", "c") != "up"; },
                     std::chrono::seconds(5)));
  int fast_failures = 0, served = 0;
  for (const auto& via : {"a", "b"}) {
    auto c = f.client(via);
    for (int i = 0; i < 9; ++i) {
      auto sku = std::string{"down-"} + via + "-" + std::to_string(i);
      auto t0 = std::chrono::steady_clock::now();
      auto r = c.create_product(sku, "Item", 100);
      auto took = std::chrono::steady_clock::now() - t0;
      INFO(sku << ": " << r.text);
      if (f.owner_of_sku(sku) == "c") {
        CHECK(r.status == 503);
        CHECK(r.error() == "unavailable");
        CHECK(took < std::chrono::milliseconds(1200));
        ++fast_failures;
      } else {
        CHECK(r.status == 201);
        ++served;
      }
    }
  }
  CHECK(fast_failures > 0);
  CHECK(served > 0);

  // A node started as c with the wrong secret is refused by both others, and so are
  // the commands for c's shards.
  f.start("c", "wrong.json");
  REQUIRE(eventually([&] { return f.health("a", "c") == "refused" && f.health("b", "c") == "refused"; },
                     std::chrono::seconds(10)));
  CHECK(f.health("c", "a") == "refused");
  CHECK(f.log_of("a").find("does not know the cluster secret") != std::string::npos);
  CHECK(f.log_of("a").find("the-shop-cluster-secret") == std::string::npos);
  CHECK(f.log_of("c").find("not-the-secret") == std::string::npos);
  for (int i = 0; i < 20; ++i) {
    auto sku = "refused-" + std::to_string(i);
    if (f.owner_of_sku(sku) != "c")
      continue;
    auto r = f.client("a").create_product(sku, "Item", 100);
    CHECK(r.status == 503);
    break;
  }
  REQUIRE(f.stop("c"));

  // The real c returns: routing resumes, and every creation acknowledged before the kill
  // is in its journal.
  f.start("c");
  REQUIRE(eventually([&] { return f.all_up(); }, std::chrono::seconds(15)));
  for (const auto& a : acks)
    if (f.owner_of_sku(a.sku) == "c") {
      INFO(a.sku);
      CHECK(on_node(f, "c", a));
    }
  for (const auto& via : {"a", "b"}) {
    for (int i = 0; i < 20; ++i) {
      auto sku = std::string{"back-"} + via + "-" + std::to_string(i);
      if (f.owner_of_sku(sku) != "c")
        continue;
      auto r = f.client(via).create_product(sku, "Item", 100);
      INFO(r.text);
      CHECK(r.status == 201);
      break;
    }
  }
  for (const auto& id : ids)
    CHECK(f.stop(id));
}

TEST_CASE("kill -9 of a node under a concurrent workload through every node loses no acknowledged command",
          "[cluster][shop][durability]") {
  cluster_fixture f;
  f.start_all();

  std::mutex mx;
  std::vector<ack> acks;
  std::map<std::string, int> refusals; // error code -> count
  std::atomic<bool> stop{false};
  std::atomic<int> slow{0};
  std::vector<std::thread> workers;
  for (const auto& via : ids)
    for (int t = 0; t < 2; ++t)
      workers.emplace_back([&, via, t] {
        auto c = f.client(via);
        for (int i = 0; !stop && i < 5000; ++i) {
          auto sku = "w-" + via + std::to_string(t) + "-" + std::to_string(i);
          auto t0 = std::chrono::steady_clock::now();
          auto r = c.create_product(sku, "Item", 100);
          if (std::chrono::steady_clock::now() - t0 > std::chrono::milliseconds(1500))
            ++slow;
          std::lock_guard<std::mutex> guard{mx};
          if (r.status == 201)
            acks.push_back({sku, via, r.json["position"].get<uint64_t>()});
          else if (r.status != 0) // 0: c's own HTTP connection died with it
            ++refusals[r.error()];
          else
            return;
        }
      });
  auto count = [&] {
    std::lock_guard<std::mutex> guard{mx};
    return acks.size();
  };
  REQUIRE(eventually([&] { return count() >= 60; }, std::chrono::seconds(20)));
  f.nodes["c"]->kill9();
  auto at_kill = count();
  REQUIRE(eventually([&] { return count() >= at_kill + 60; }, std::chrono::seconds(20)));
  stop = true;
  for (auto& w : workers)
    w.join();
  INFO(acks.size() << " acknowledged; refusals: " << refusals.size());
  for (const auto& [code, n] : refusals) {
    INFO(code << " x" << n);
    CHECK(code == "unavailable"); // a dead owner is never anything else
  }
  CHECK(refusals["unavailable"] > 0);
  CHECK(slow == 0); // nobody waited past the forward bound

  f.start("c");
  REQUIRE(eventually([&] { return f.all_up(); }, std::chrono::seconds(15)));
  std::size_t checked = 0;
  for (const auto& a : acks) {
    INFO(a.sku << " via " << a.via << " at " << a.position);
    CHECK(on_node(f, f.owner_of_sku(a.sku), a));
    ++checked;
  }
  CHECK(checked == acks.size());
  for (const auto& id : ids)
    CHECK(f.stop(id));
}

TEST_CASE("an owner that stops answering (SIGSTOP) costs its callers the forward bound, not a hang",
          "[cluster][shop][bound]") {
  cluster_fixture f;
  f.start_all();
  auto sku_of = [&](const std::string& owner, const std::string& prefix) {
    for (int i = 0;; ++i)
      if (f.owner_of_sku(prefix + std::to_string(i)) == owner)
        return prefix + std::to_string(i);
  };
  f.nodes["c"]->signal(SIGSTOP); // the connection stays open: only the bound can help
  auto a = f.client("a");
  auto t0 = std::chrono::steady_clock::now();
  auto r = a.create_product(sku_of("c", "frozen-"), "Item", 100);
  auto took = std::chrono::steady_clock::now() - t0;
  INFO(r.text);
  CHECK(r.status == 503);
  CHECK(r.error() == "unavailable");
  CHECK(took >= std::chrono::milliseconds(900));
  CHECK(took < std::chrono::milliseconds(2000));
  CHECK(a.create_product(sku_of("b", "warm-"), "Item", 100).status == 201);
  f.nodes["c"]->signal(SIGCONT);
  // A fresh sku per try: a timed-out try may still have run on c after SIGCONT.
  int tries = 0;
  CHECK(eventually([&] { return a.create_product(sku_of("c", "thawed-" + std::to_string(tries++) + "-"),
                                                 "Item", 100).status == 201; },
                   std::chrono::seconds(10)));
  for (const auto& id : ids)
    CHECK(f.stop(id));
}
