// The shop's read models in a cluster: every node's queries cover every shard (products,
// stock, orders, customers' lists, sales), the nodes converge to the same content under a
// concurrent workload through all of them, a command's read_token gives read-your-writes
// on any node, and a node killed with kill -9 (orders still coming) resumes its read models
// without applying anything twice.
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <mutex>
#include <thread>

#include "shop_cluster_fixture.hpp"

using namespace shop::test;
using annal::test::cluster_fixture;
using annal::test::ids;
using nlohmann::json;

namespace {

const std::vector<std::string> skus = {"rm-a", "rm-b", "rm-c", "rm-d", "rm-e", "rm-f"};
const std::vector<std::string> customers = {"ann", "bob", "cyd"};

struct placed {
  std::string id;
  std::string customer;
};

// Everything the read models answer about the workload, as one node sees it.
json read_side(const cluster_fixture& f, const std::string& node, const std::vector<placed>& orders) {
  auto c = f.client(node);
  json out;
  for (const auto& sku : skus) {
    out["products"][sku] = c.get("/products/" + sku).json;
    out["inventory"][sku] = c.get("/inventory/" + sku).json;
  }
  for (const auto& o : orders)
    out["orders"][o.id] = c.get("/orders/" + o.id).json;
  for (const auto& customer : customers)
    out["customers"][customer] = c.get("/customers/" + customer + "/orders").json;
  out["sales"] = c.get("/reports/sales").json;
  return out;
}

// True when node's read models show every order of `orders`, each decided by fulfilment.
bool settled(const json& side, const std::vector<placed>& orders) {
  for (const auto& o : orders) {
    auto orders_seen = side.find("orders");
    if (orders_seen == side.end() || !orders_seen->contains(o.id))
      return false;
    const auto& v = (*orders_seen)[o.id];
    if (!v.is_object() || v.value("status", "") == "" || v.value("status", "") == "placed")
      return false; // not applied here yet (404's error body), or not decided yet
  }
  return true;
}

} // namespace

TEST_CASE("three shop nodes: every node's read models cover every shard and converge, a read_token "
          "gives read-your-writes on any node, a node killed with kill -9 applies nothing twice",
          "[cluster][shop][read_models]") {
  cluster_fixture f;
  f.start_all();
  for (std::size_t i = 0; i < skus.size(); ++i) {
    auto via = ids[i % ids.size()];
    REQUIRE(f.client(via).create_product(skus[i], "Item " + skus[i], 100 + static_cast<int64_t>(i)).status == 201);
    REQUIRE(f.client(via).restock(skus[i], 1000).status == 200);
  }

  // Orders through every node at once; each is read back at once, with its read_token,
  // through the next node.
  std::mutex mx;
  std::vector<placed> orders;
  std::vector<std::string> failures;
  std::vector<std::thread> clients;
  for (std::size_t n = 0; n < ids.size(); ++n)
    clients.emplace_back([&, n] {
      auto via = f.client(ids[n]);
      auto reader = f.client(ids[(n + 1) % ids.size()]);
      for (int i = 0; i < 15; ++i) {
        auto customer = customers[static_cast<std::size_t>(i) % customers.size()];
        auto r = via.place_order(customer, {{skus[static_cast<std::size_t>(i) % skus.size()], 1},
                                            {skus[(static_cast<std::size_t>(i) + n) % skus.size()], 2}});
        std::string problem;
        if (r.status != 201 || !r.json.contains("read_token")) {
          problem = "place through " + ids[n] + ": " + r.text;
        } else {
          auto id = r.json["order_id"].get<std::string>();
          auto seen = reader.get("/orders/" + id + "?read_token=" + r.json["read_token"].get<std::string>());
          if (seen.status != 200 || seen.json["order_id"] != id)
            problem = "read-your-writes of " + id + ": " + seen.text;
          std::lock_guard<std::mutex> lock{mx};
          orders.push_back({id, customer});
        }
        if (!problem.empty()) {
          std::lock_guard<std::mutex> lock{mx};
          failures.push_back(problem);
        }
      }
    });
  for (auto& t : clients)
    t.join();
  INFO((failures.empty() ? std::string{} : failures.front()));
  REQUIRE(failures.empty());
  REQUIRE(orders.size() == 45);

  // A price change through one node, read with its token on another.
  auto changed = f.client("a").post("/products/rm-b/price", {{"price_cents", 777}});
  REQUIRE(changed.status == 200);
  auto price = f.client("c").get("/products/rm-b?read_token=" + changed.json["read_token"].get<std::string>());
  CHECK(price.json["price_cents"] == 777);
  // The operator sees the cluster read models' position per shard.
  auto projections = f.client("b").get("/projections");
  REQUIRE(projections.status == 200);
  bool shard_positions_listed = false;
  for (const auto& p : projections.json["projections"])
    if (p["name"] == "shop.read_models")
      shard_positions_listed = p["shard_positions"].size() == 64;
  CHECK(shard_positions_listed);
  // min_position is one node's journal position: refused in a cluster, with a reason.
  auto refused = f.client("b").get("/products/rm-b?min_position=1");
  CHECK(refused.status == 400);
  CHECK(refused.text.find("read_token") != std::string::npos);

  // Every node converges to the same content, once fulfilment has decided every order.
  std::map<std::string, json> sides;
  auto converged = [&] {
    for (const auto& id : ids)
      sides[id] = read_side(f, id, orders);
    return settled(sides["a"], orders) && sides["a"] == sides["b"] && sides["b"] == sides["c"];
  };
  REQUIRE(eventually(converged, std::chrono::seconds(30)));
  // And it is the workload's content: each customer lists exactly its orders; sales are
  // those of paid orders (none yet); the stock reserved is what the confirmed orders hold.
  for (const auto& customer : customers) {
    std::multiset<std::string> listed, expected;
    for (const auto& row : sides["a"]["customers"][customer]["orders"])
      listed.insert(row["order_id"].get<std::string>());
    for (const auto& o : orders)
      if (o.customer == customer)
        expected.insert(o.id);
    CHECK(listed == expected);
  }
  int64_t reserved = 0;
  for (const auto& sku : skus)
    reserved += sides["a"]["inventory"][sku]["reserved"].get<int64_t>();
  int64_t ordered = 0;
  for (const auto& o : orders) {
    if (sides["a"]["orders"][o.id]["status"] != "confirmed")
      continue;
    for (const auto& line : sides["a"]["orders"][o.id]["lines"])
      ordered += line["quantity"].get<int64_t>();
  }
  CHECK(reserved == ordered);
  CHECK(ordered > 0);

  // Pay a third of the orders through any node: sales on every node count each once.
  int64_t paid_units = 0;
  for (std::size_t i = 0; i < orders.size(); i += 3) {
    const auto& o = sides["a"]["orders"][orders[i].id];
    if (o["status"] != "confirmed")
      continue;
    auto r = f.client(ids[i % ids.size()]).post("/orders/" + orders[i].id + "/pay",
                                                {{"amount_cents", o["total_cents"]}});
    INFO(r.text);
    REQUIRE(r.status == 200);
    for (const auto& line : o["lines"])
      paid_units += line["quantity"].get<int64_t>();
  }
  REQUIRE(paid_units > 0);
  auto units_sold = [](const json& sales) {
    int64_t n = 0;
    if (!sales.contains("skus"))
      return int64_t{-1}; // an error body: not served yet
    for (const auto& row : sales["skus"])
      n += row["units"].get<int64_t>();
    return n;
  };
  REQUIRE(eventually([&] { return converged() && units_sold(sides["a"]["sales"]) == paid_units; },
                     std::chrono::seconds(30)));

  // kill -9 of c while orders keep coming through a: c's read models resume from their
  // checkpoints (stored with the rows they cover), nothing applied twice, nothing missed.
  std::thread more([&] {
    auto via = f.client("a");
    for (int i = 0; i < 20; ++i) {
      auto r = via.place_order(customers[static_cast<std::size_t>(i) % customers.size()], {{skus[0], 1}});
      if (r.status == 201) {
        std::lock_guard<std::mutex> lock{mx};
        orders.push_back({r.json["order_id"].get<std::string>(), customers[static_cast<std::size_t>(i) % customers.size()]});
      }
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  f.nodes["c"]->kill9();
  more.join();
  f.start("c");
  REQUIRE(eventually([&] { return f.all_up(); }, std::chrono::seconds(15)));
  REQUIRE(eventually(converged, std::chrono::seconds(30)));
  CHECK(units_sold(sides["c"]["sales"]) == paid_units);
  for (const auto& id : ids)
    CHECK(f.stop(id));
}
