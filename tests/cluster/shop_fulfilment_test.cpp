// Fulfilment across a cluster: every order, placed through any node, is decided once, by
// the process manager of the node that owns the order, and its reservations land once on
// the inventory of whichever node owns each product, so stock adds up on every owner.
#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <thread>

#include "shop_cluster_fixture.hpp"

using namespace shop::test;
using annal::test::cluster_fixture;
using annal::test::ids;

namespace {

struct placed_order {
  std::string id;
  std::string via;
  std::vector<std::pair<std::string, int64_t>> lines;
};

} // namespace

TEST_CASE("three shop nodes: each order placed through any node is decided once by its owner's fulfilment, "
          "and every owner's stock adds up",
          "[cluster][shop][fulfilment]") {
  cluster_fixture f;
  f.start_all();

  // Two products per node, 10 in stock each, created and restocked through other nodes.
  std::vector<std::string> skus;
  for (size_t i = 0; i < ids.size(); ++i)
    for (int k = 0; k < 2; ++k) {
      auto sku = f.id_owned_by(ids[i], "inventory", "f" + ids[i] + std::to_string(k) + "-");
      auto via = f.client(ids[(i + 1) % ids.size()]);
      REQUIRE(via.create_product(sku, "Item " + sku, 100).status == 201);
      REQUIRE(via.restock(sku, 10).status == 200);
      skus.push_back(sku);
    }

  // Orders of two lines each, through every node, concurrently: more than the stock, so
  // some are rejected (and release what they had reserved).
  std::vector<placed_order> orders;
  for (int n = 0; n < 36; ++n) {
    const auto& via = ids[n % ids.size()];
    orders.push_back({"fo-" + std::to_string(n), via,
                      {{skus[n % skus.size()], 1 + n % 3}, {skus[(n * 5 + 1) % skus.size()], 1}}});
  }
  // (Catch's assertions are not thread-safe: the threads only record what they got.)
  std::map<std::string, std::string> answers; // order id -> status and body
  std::mutex mx;
  std::vector<std::thread> placers;
  for (const auto& via : ids)
    placers.emplace_back([&, via] {
      auto c = f.client(via);
      for (const auto& o : orders)
        if (o.via == via) {
          auto r = c.place_order("cust-" + via, o.lines, o.id);
          std::lock_guard<std::mutex> guard{mx};
          answers[o.id] = std::to_string(r.status) + " " + r.text;
        }
    });
  for (auto& t : placers)
    t.join();
  // A placement answered `unavailable` (an owner slower than the 1 s forward bound, on a
  // loaded machine) may or may not have happened; every order that exists is checked.
  int acknowledged = 0;
  for (const auto& o : orders) {
    INFO(o.id << ": " << answers[o.id]);
    bool ok = answers[o.id].rfind("201 ", 0) == 0;
    CHECK((ok || answers[o.id].find("\"unavailable\"") != std::string::npos));
    acknowledged += ok ? 1 : 0;
  }
  CHECK(acknowledged >= 18);

  // Each order decided on its owner; confirmed orders hold their reservations.
  std::map<std::string, int64_t> reserved_by_confirmed;
  int confirmed = 0, rejected = 0;
  for (const auto& o : orders) {
    auto owner = f.owner_of_stream("order-" + o.id);
    if (answers[o.id].rfind("201 ", 0) != 0 && f.client(owner).order(o.id).status == 404)
      continue; // never placed
    auto status = f.client(owner).await_decided(o.id);
    INFO(o.id << " owned by " << owner << ": " << status);
    CHECK((status == "confirmed" || status == "rejected"));
    if (status == "confirmed") {
      ++confirmed;
      for (const auto& [sku, qty] : o.lines) {
        reserved_by_confirmed[sku] += qty;
        // Its reservation is in the product's inventory stream, on the product's owner.
        auto inv = f.client(f.owner_of_stream("inventory-" + sku))
                     .get("/streams/inventory-" + sku + "/events?from=1&limit=1000");
        int found = 0;
        for (const auto& e : inv.json["events"])
          found += (e["type"] == "StockReserved" && e["data"]["order_id"] == o.id) ? 1 : 0;
        INFO("line " << sku << " x" << qty << "; order: " << f.client(owner).order(o.id).text);
        CHECK(found == 1);
      }
    } else {
      ++rejected;
    }
    // Decided once: one decision event in the order's stream, on its owner.
    auto events = f.client(owner).get("/streams/order-" + o.id + "/events?from=1&limit=100");
    REQUIRE(events.status == 200);
    int decisions = 0;
    for (const auto& e : events.json["events"])
      decisions += (e["type"] == "OrderConfirmed" || e["type"] == "OrderRejected") ? 1 : 0;
    CHECK(decisions == 1);
  }
  CHECK(confirmed > 0);
  CHECK(rejected > 0);

  // Every product's owner holds exactly the confirmed orders' reservations, once each
  // (the inventory read model lags its journal a little: wait for it).
  for (const auto& sku : skus) {
    auto owner = f.owner_of_stream("inventory-" + sku);
    INFO(sku << " owned by " << owner << ", confirmed reservations " << reserved_by_confirmed[sku]);
    bool adds_up = eventually([&] {
      auto r = f.client(owner).get("/inventory/" + sku);
      return r.status == 200 && r.json["reserved"] == reserved_by_confirmed[sku] && r.json["on_hand"] == 10;
    }, std::chrono::seconds(10));
    auto last = f.client(owner).get("/inventory/" + sku);
    auto stream = f.client(owner).get("/streams/inventory-" + sku + "/events?from=1&limit=200");
    INFO("inventory: " << last.text << "\nstream: " << stream.text);
    CHECK(adds_up);
  }
  for (const auto& id : ids)
    CHECK(f.stop(id));
}
