// A node joining a running shop cluster (issue 12): three nodes serve a concurrent workload
// through all of them; a fourth, which the cluster file marks "joins", starts, the others
// admit it once it proves the secret, and it takes its share of the shards (moves, one at a
// time) while the workload goes on. Nothing acknowledged is lost or applied twice, every
// node's map names one owner per shard, the same, and every node's read models count each
// acknowledged restock once. Drained, the fourth node hands its shards back.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "restock_workload.hpp"
#include "shop_cluster_fixture.hpp"

namespace shop_join_cases {

using namespace shop::test;
using namespace annal::test::restocks;
using annal::test::cluster_fixture;
using nlohmann::json;

// Writes the cluster file the joining node `id` starts with: the founders' members, and
// itself marked "joins".
void write_join_config(cluster_fixture& f, const std::string& id, const std::string& file) {
  json j;
  j["secret_file"] = (f.dir / "secret").string();
  j["shard_count"] = 64;
  for (const auto& [member, port] : f.ports)
    j["members"].push_back({{"id", member}, {"host", "127.0.0.1"}, {"port", port}});
  f.ports[id] = annal::test::free_port();
  j["members"].push_back({{"id", id}, {"host", "127.0.0.1"}, {"port", f.ports[id]}, {"joins", true}});
  std::ofstream{f.dir / file} << j.dump(2);
}

// Node `node`'s map as shard -> "owner@epoch".
std::vector<std::string> map_of(cluster_fixture& f, const std::string& node) {
  auto r = f.client(node).get("/cluster/status");
  std::vector<std::string> out;
  if (r.status != 200)
    return out;
  for (const auto& s : r.json["shards"])
    out.push_back(s["owner"].get<std::string>() + "@" + std::to_string(s["epoch"].get<uint64_t>()));
  return out;
}

// How many shards each member owns in `map` (as map_of returns it).
std::map<std::string, int> counts(const std::vector<std::string>& map) {
  std::map<std::string, int> out;
  for (const auto& s : map)
    ++out[s.substr(0, s.find('@'))];
  return out;
}

// True when every running node has the same map as `reference`.
bool maps_agree(cluster_fixture& f, const std::vector<std::string>& reference) {
  for (const auto& [id, node] : f.nodes)
    if (map_of(f, id) != reference)
      return false;
  return true;
}

// Every sku's inventory stream on the node that owns its shard: versions 1..n, each
// acknowledged key exactly once; and every node's read model counts each acknowledged
// restock once.
void check_restocks(cluster_fixture& f, workload& w, const std::vector<std::string>& skus,
                    const std::vector<std::string>& map) {
  for (const auto& sku : skus) {
    INFO(sku);
    auto stream = "inventory-" + sku;
    const auto& owned = map.at(f.map.shard_of(stream));
    auto owner = owned.substr(0, owned.find('@'));
    auto events = stream_events(f, owner, stream);
    std::map<std::string, int> by_key;
    for (std::size_t i = 0; i < events.size(); ++i) {
      CHECK(events[i]["version"] == i + 1);
      ++by_key[events[i]["metadata"]["command_id"].get<std::string>()];
    }
    int64_t expected = 0;
    {
      std::lock_guard<std::mutex> lock{w.mx};
      for (const auto& a : w.acks[sku])
        CHECK(by_key["http/" + a.key] == 1); // the node's command id for an Idempotency-Key
      expected = static_cast<int64_t>(w.acks[sku].size());
    }
    CHECK(static_cast<int64_t>(events.size()) == expected);
    for (const auto& [id, node] : f.nodes)
      CHECK(eventually([&, id = id] {
        auto r = f.client(id).get("/inventory/" + sku);
        return r.status == 200 && r.json["on_hand"] == expected;
      }, std::chrono::seconds(15)));
  }
}

TEST_CASE("a fourth shop node joins three under load and takes its share of the shards, nothing "
          "acknowledged lost or doubled, one owner per shard, read models converging, and drained, it "
          "hands them back",
          "[cluster][shop][join]") {
  cluster_fixture f({"a", "b", "c"});
  f.start_all();
  std::vector<std::string> skus;
  for (int i = 0; i < 32; ++i)
    skus.push_back("j" + std::to_string(i));
  std::set<uint16_t> shards;
  for (const auto& sku : skus) {
    REQUIRE(f.client("a").create_product(sku, "Joining " + sku, 100).status == 201);
    shards.insert(f.map.shard_of("inventory-" + sku));
  }
  INFO(shards.size() << " shards hold the skus' inventories");

  workload w;
  std::vector<std::thread> workers;
  for (int k = 0; k < 3; ++k)
    workers.emplace_back([&, k, via = f.members[static_cast<std::size_t>(k)]] { restock_loop(f, via, skus, k, w); });
  REQUIRE(eventually([&] { return w.acked() >= 150; }, std::chrono::seconds(30)));

  // d joins: the founders do not know it; it dials them, proves the secret, says where it
  // listens, and takes 16 of the 64 shards.
  write_join_config(f, "d", "join.json");
  f.start("d", "join.json");
  f.members.push_back("d");
  REQUIRE(eventually([&] { return f.all_up(); }, std::chrono::seconds(20)));
  workers.emplace_back([&] { restock_loop(f, "d", skus, 3, w); });
  REQUIRE(eventually([&] { return counts(map_of(f, "d"))["d"] == 16; }, std::chrono::seconds(60)));
  auto joined = map_of(f, "d");
  auto before_end = w.acked();
  REQUIRE(eventually([&] { return w.acked() >= before_end + 150; }, std::chrono::seconds(30)));
  w.stop = true;
  for (auto& t : workers)
    t.join();
  CHECK(w.failed == 0);
  CHECK(f.log_of("d").find("joined: took 16 shards") != std::string::npos);

  // One owner per shard, the same on every node: 16 each, each moved shard at epoch 2.
  REQUIRE(eventually([&] { return maps_agree(f, joined); }, std::chrono::seconds(10)));
  for (const auto& [id, n] : counts(joined))
    CHECK(n == 16);
  for (uint16_t s = 0; s < 64; ++s) {
    auto expected_epoch = joined[s].substr(0, 2) == "d@" ? "2" : "1";
    CHECK(joined[s].substr(joined[s].find('@') + 1) == expected_epoch);
  }
  check_restocks(f, w, skus, joined);

  // Drained, d owns nothing and every node agrees; commands through d are forwarded.
  auto drained = f.client("d").post("/cluster/drain", json::object());
  INFO(drained.text);
  REQUIRE(drained.status == 200);
  CHECK(drained.json["moves"].size() == 16);
  auto after = map_of(f, "d");
  CHECK(counts(after).count("d") == 0);
  REQUIRE(eventually([&] { return maps_agree(f, after); }, std::chrono::seconds(10)));
  for (const auto& sku : skus) {
    auto r = f.client("d").post("/inventory/" + sku + "/restock", json{{"quantity", 1}},
                                {{"Idempotency-Key", "after-drain-" + sku}});
    INFO(sku << ": " << r.text);
    CHECK(r.status == 200);
    std::lock_guard<std::mutex> lock{w.mx};
    w.acks[sku].push_back({"after-drain-" + sku, r.json.value("version", uint64_t{0}), ""});
  }
  check_restocks(f, w, skus, after);
}

} // namespace shop_join_cases
