// `annal cluster status` against real shop nodes: members with their health, the shard map
// grouped by owner and epoch, the JSON form, a killed member shown down by the others, and
// an exit code of 1 when the node asked does not answer.
#include <catch2/catch.hpp>

#include "child_run.hpp"
#include "shop_cluster_fixture.hpp"

using namespace shop::test;
using annal::test::cluster_fixture;
using nlohmann::json;

namespace {

annal::test::child_outcome run_cluster_status(const std::vector<std::string>& args) {
  return annal::test::run_child(ANNAL_BINARY, args, std::chrono::seconds(10));
}

// The JSON view of node `id` through the CLI; null when it cannot be read.
json status_json(const cluster_fixture& f, const std::string& id) {
  auto r = run_cluster_status({"--json", "cluster", "status", "--url", f.nodes.at(id)->url()});
  if (r.exit_code != 0)
    return nullptr;
  return json::parse(r.output, nullptr, false)["status"];
}

std::string health_in(const json& view, const std::string& member) {
  for (const auto& m : view["members"])
    if (m["id"] == member)
      return m["health"].get<std::string>();
  return "absent";
}

} // namespace

TEST_CASE("annal cluster status shows members with health and the shard map by owner and epoch, "
          "and a killed member as down",
          "[cluster][cli]") {
  cluster_fixture f{{"a", "b"}};
  f.start("a");
  f.start("b");
  REQUIRE(eventually([&] { return f.all_up(); }, std::chrono::seconds(15)));

  auto text = run_cluster_status({"cluster", "status", "--url", f.nodes["a"]->url()});
  INFO(text.output);
  REQUIRE(text.exit_code == 0);
  CHECK(text.output.find("node a: members") != std::string::npos);
  CHECK(text.output.find("(links over TLS)") == std::string::npos);
  CHECK(text.output.find("a (this node)") != std::string::npos);
  CHECK(text.output.find("shard map (64 shards)") != std::string::npos);
  // Shards alternate between the two sorted ids: a owns the even ones, b the odd ones.
  CHECK(text.output.find("0 2 4 6") != std::string::npos);
  CHECK(text.output.find("1 3 5 7") != std::string::npos);

  auto view = status_json(f, "a");
  REQUIRE(view.is_object());
  CHECK(view["node"] == "a");
  CHECK(view["tls"] == false);
  CHECK(view["shards"].size() == 64);
  CHECK(health_in(view, "b") == "up");
  CHECK(view["shards"][1]["owner"] == "b");
  CHECK(view["shards"][1]["epoch"] == 1);

  f.nodes["b"]->kill9();
  CHECK(eventually([&] { return health_in(status_json(f, "a"), "b") == "down"; }, std::chrono::seconds(5)));
  auto gone = run_cluster_status({"cluster", "status", "--url", f.nodes["b"]->url()});
  CHECK(gone.exit_code == 1);
  CHECK(gone.output.find("annal: cannot read") != std::string::npos);
  CHECK(f.stop("a"));
}

TEST_CASE("annal cluster move, rebalance and drain drive a node's shard moves and report each move, and "
          "a refused move exits 1 with the node's reason",
          "[cluster][cli][move]") {
  cluster_fixture f{{"a", "b"}};
  f.start("a");
  f.start("b");
  REQUIRE(eventually([&] { return f.all_up(); }, std::chrono::seconds(15)));
  REQUIRE(f.client("a").create_product("cli-0", "Moved by the CLI", 100).status == 201);
  auto owner_of = [&](int shard) { return status_json(f, "a")["shards"][static_cast<std::size_t>(shard)]; };

  // a owns shard 0 (even shards): moved to b, epoch 2.
  auto moved = run_cluster_status({"--json", "cluster", "move", "--url", f.nodes["a"]->url(), "--shard", "0",
                                   "--to", "b"});
  INFO(moved.output);
  REQUIRE(moved.exit_code == 0);
  auto report = json::parse(moved.output, nullptr, false)["move"];
  CHECK(report["shard"] == 0);
  CHECK(report["to"] == "b");
  CHECK(report["epoch"] == 2);
  CHECK(owner_of(0)["owner"] == "b");

  // Asked again of a, which no longer owns it: refused, with the reason.
  auto refused = run_cluster_status({"cluster", "move", "--url", f.nodes["a"]->url(), "--shard", "0", "--to", "b"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.output.find("409") != std::string::npos);

  // 31 against 33: one move evens them out.
  auto even = run_cluster_status({"cluster", "rebalance", "--url", f.nodes["b"]->url()});
  INFO(even.output);
  REQUIRE(even.exit_code == 0);
  CHECK(even.output.find("1 shard moved") != std::string::npos);
  auto view = status_json(f, "a");
  for (const auto& m : view["members"])
    CHECK(m["shards"] == 32);

  // Drained, b owns nothing; a command through b is forwarded to a.
  auto drained = run_cluster_status({"--json", "cluster", "drain", "--url", f.nodes["b"]->url()});
  INFO(drained.output);
  REQUIRE(drained.exit_code == 0);
  CHECK(json::parse(drained.output, nullptr, false)["moves"].size() == 32);
  REQUIRE(eventually([&] {
    auto view_b = status_json(f, "b"); // kept: the loop must not outlive it
    for (const auto& m : view_b["members"])
      if (m["id"] == "b" && m["shards"] != 0)
        return false;
    return true;
  }, std::chrono::seconds(5)));
  CHECK(f.client("b").restock("cli-0", 3).status == 200);
  CHECK(f.stop("a"));
  CHECK(f.stop("b"));
}
