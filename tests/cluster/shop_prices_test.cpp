// Orders and restocks through a node that does not own the product (issue 12): the node
// asks the product's owner for its state, so every node prices an order at the price
// acknowledged last, wherever it was acknowledged; with the owner killed (-9) they fail
// fast with 503 unavailable.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>

#include "shop_cluster_fixture.hpp"

using namespace shop::test;
using annal::test::cluster_fixture;
using annal::test::ids;

namespace {

// The price of the first line of order `id`, from its OrderPlaced on the order's owner;
// -1 when it cannot be read.
int64_t priced_at(const cluster_fixture& f, const std::string& id) {
  auto r = f.client(f.owner_of_stream("order-" + id)).get("/streams/order-" + id + "/events?from=1&limit=1");
  if (r.status != 200 || r.json["events"].size() != 1)
    return -1;
  const auto& lines = r.json["events"][0]["data"]["lines"];
  return lines.empty() ? -1 : lines[0]["price_cents"].get<int64_t>();
}

} // namespace

TEST_CASE("three shop nodes: orders and restocks of a product another node owns are priced by its owner, "
          "and fail with 503 within the bound when the owner is frozen or killed",
          "[cluster][shop][prices]") {
  cluster_fixture f;
  f.start_all();
  auto a = f.client("a");

  // Products created through a for shards that b and c own.
  std::map<std::string, std::string> sku_of; // owner -> sku
  std::map<std::string, int64_t> price;      // sku -> price acknowledged last
  for (const auto& owner : {"b", "c"}) {
    auto sku = f.id_owned_by(owner, "product", std::string{"p-"} + owner + "-");
    auto r = a.create_product(sku, "Item " + sku, 1000);
    INFO(r.text);
    REQUIRE(r.status == 201);
    sku_of[owner] = sku;
    price[sku] = 1000;
  }

  int order_no = 0;
  auto check_orders_everywhere = [&] {
    for (const auto& via : ids) {
      auto c = f.client(via);
      for (const auto& [owner, sku] : sku_of) {
        INFO(sku << " (owned by " << owner << ") via " << via);
        auto restocked = c.restock(sku, 5);
        INFO(restocked.text);
        CHECK(restocked.status == 200);
        auto id = "o-" + std::to_string(order_no++);
        auto placed = c.place_order("cust-1", {{sku, 2}}, id);
        INFO(placed.text);
        REQUIRE(placed.status == 201);
        CHECK(priced_at(f, id) == price[sku]);
      }
    }
  };
  check_orders_everywhere();

  // A price change acknowledged through one node is the price of the next order through
  // any other, though that node cached the product at its creation (version 1).
  for (const auto& [owner, sku] : sku_of) {
    int64_t next = price[sku] + 250;
    auto r = f.client("b").post("/products/" + sku + "/price", {{"price_cents", next}});
    INFO(r.text);
    REQUIRE(r.status == 200);
    price[sku] = next;
  }
  check_orders_everywhere();

  // A frozen owner (SIGSTOP: the connection stays open) costs a lookup the forward bound.
  f.nodes["c"]->signal(SIGSTOP);
  {
    auto t0 = std::chrono::steady_clock::now();
    auto frozen = a.restock(sku_of["c"], 1);
    auto took = std::chrono::steady_clock::now() - t0;
    INFO(frozen.text);
    CHECK(frozen.status == 503);
    CHECK(frozen.error() == "unavailable");
    CHECK(took >= std::chrono::milliseconds(900));
    CHECK(took < std::chrono::milliseconds(2000));
  }
  f.nodes["c"]->signal(SIGCONT);

  // kill -9 c: its products cannot be priced or checked anywhere, fast; b's still can.
  f.nodes["c"]->kill9();
  REQUIRE(eventually([&] { return f.health("a", "c") != "up" && f.health("b", "c") != "up"; },
                     std::chrono::seconds(5)));
  for (const auto& via : {"a", "b"}) {
    auto c = f.client(via);
    // Order ids of shards that survive, so only the product's owner is missing.
    auto id = f.id_owned_by(via, "order", std::string{"down-"} + via + "-");
    auto t0 = std::chrono::steady_clock::now();
    auto placed = c.place_order("cust-1", {{sku_of["b"], 1}, {sku_of["c"], 1}}, id);
    auto restocked = c.restock(sku_of["c"], 1);
    auto took = std::chrono::steady_clock::now() - t0;
    INFO("via " << via << ": " << placed.text << " / " << restocked.text);
    CHECK(placed.status == 503);
    CHECK(placed.error() == "unavailable");
    CHECK(restocked.status == 503);
    CHECK(restocked.error() == "unavailable");
    CHECK(took < std::chrono::milliseconds(2400)); // two requests, each within the 1 s bound
    auto fine = c.place_order("cust-1", {{sku_of["b"], 1}}, id);
    INFO(fine.text);
    CHECK(fine.status == 201);
    CHECK(priced_at(f, id) == price[sku_of["b"]]);
  }
  for (const auto& id : {"a", "b"})
    CHECK(f.stop(id));
}
