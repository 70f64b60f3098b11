// Orders through their life cycle, with fulfilment reserving, confirming, rejecting,
// releasing and shipping stock.
#include <catch2/catch.hpp>

#include "shop_fixture.hpp"

using namespace shop::test;
using nlohmann::json;

namespace {

json inventory_at(shop_client& c, const std::string& sku, uint64_t min_position = 0) {
  return c.get("/inventory/" + sku + "?min_position=" + std::to_string(min_position)).json;
}

} // namespace

TEST_CASE("an order is confirmed, paid and shipped", "[shop][contract][lifecycle]") {
  shop_fixture f;
  auto c = f.client();
  REQUIRE(c.create_product("pen", "Pen", 250).status == 201);
  REQUIRE(c.create_product("ink", "Ink", 100).status == 201);
  REQUIRE(c.restock("pen", 10).status == 200);
  REQUIRE(c.restock("ink", 10).status == 200);

  auto placed = c.place_order("ann", {{"pen", 2}, {"ink", 3}}, "o-1");
  REQUIRE(placed.status == 201);
  CHECK(placed.json["order_id"] == "o-1");
  CHECK(placed.json["version"] == 1);
  // Read your own write: the order is there at once, with catalog prices.
  auto read = c.order("o-1", placed.position());
  REQUIRE(read.status == 200);
  CHECK(read.json["customer_id"] == "ann");
  CHECK(read.json["total_cents"] == 2 * 250 + 3 * 100);
  CHECK(read.json["lines"] == json::array({{{"sku", "pen"}, {"quantity", 2}, {"price_cents", 250}},
                                           {{"sku", "ink"}, {"quantity", 3}, {"price_cents", 100}}}));

  REQUIRE(c.await_decided("o-1") == "confirmed");
  auto confirmed = c.order("o-1");
  CHECK(confirmed.json["version"] == 2);
  // The inventory read model follows its own events: it may trail the order's view.
  CHECK(eventually([&] { return inventory_at(c, "pen")["reserved"] == 2; }));

  auto wrong = c.post("/orders/o-1/pay", {{"amount_cents", 799}});
  CHECK(wrong.status == 409);
  CHECK(wrong.error() == "rejected");
  CHECK(wrong.json["message"].get<std::string>().find("does not equal the total 800") != std::string::npos);
  CHECK(c.post("/orders/o-1/ship", json::object()).error() == "rejected"); // not paid yet

  auto paid = c.post("/orders/o-1/pay", {{"amount_cents", 800}});
  REQUIRE(paid.status == 200);
  CHECK(paid.json["order_id"] == "o-1");
  CHECK(paid.json["version"] == 3);
  auto sales = c.get("/reports/sales?min_position=" + std::to_string(paid.position()));
  CHECK(sales.json == json{{"skus", json::array({{{"sku", "ink"}, {"units", 3}, {"revenue_cents", 300}},
                                                 {{"sku", "pen"}, {"units", 2}, {"revenue_cents", 500}}})}});
  CHECK(c.post("/orders/o-1/cancel", json::object()).error() == "rejected"); // paid

  auto shipped = c.post_raw("/orders/o-1/ship", "", "");
  REQUIRE(shipped.status == 200);
  CHECK(c.order("o-1", shipped.position()).json["status"] == "shipped");
  // Fulfilment ships the stock: on hand and reserved both drop.
  CHECK(eventually([&] {
    auto pen = inventory_at(c, "pen");
    return pen["on_hand"] == 8 && pen["reserved"] == 0 && pen["available"] == 8;
  }));
  CHECK(c.post("/orders/o-1/ship", json::object()).error() == "rejected");
  auto list = c.get("/customers/ann/orders?min_position=" + std::to_string(shipped.position()));
  CHECK(list.json == json{{"orders", json::array({{{"order_id", "o-1"}, {"status", "shipped"}, {"total_cents", 800}}})}});
  // Shipped orders still count as sales.
  CHECK(c.get("/reports/sales").json["skus"][1]["units"] == 2);
}

TEST_CASE("an order that cannot be reserved is rejected and holds nothing",
          "[shop][contract][lifecycle]") {
  shop_fixture f;
  auto c = f.client();
  REQUIRE(c.create_product("pen", "Pen", 250).status == 201);
  REQUIRE(c.create_product("ink", "Ink", 100).status == 201);
  REQUIRE(c.restock("pen", 10).status == 200);
  REQUIRE(c.restock("ink", 1).status == 200);
  auto placed = c.place_order("bob", {{"pen", 2}, {"ink", 3}}, "o-2");
  REQUIRE(placed.status == 201);
  REQUIRE(c.await_decided("o-2") == "rejected");
  auto o = c.order("o-2");
  CHECK(o.json["reason"].get<std::string>().find("sku 'ink': ") != std::string::npos);
  CHECK(o.json["reason"].get<std::string>().find("insufficient stock") != std::string::npos);
  // What was reserved (pen) was released again.
  CHECK(eventually([&] { return inventory_at(c, "pen")["reserved"] == 0; }));
  CHECK(inventory_at(c, "ink")["reserved"] == 0);
  CHECK(c.post("/orders/o-2/pay", {{"amount_cents", 800}}).error() == "rejected");
  CHECK(c.post("/orders/o-2/cancel", json::object()).error() == "rejected");
  CHECK(c.get("/reports/sales").json["skus"].empty());
}

TEST_CASE("a cancelled order releases its reservations", "[shop][contract][lifecycle]") {
  shop_fixture f;
  auto c = f.client();
  REQUIRE(c.create_product("pen", "Pen", 250).status == 201);
  REQUIRE(c.restock("pen", 5).status == 200);
  REQUIRE(c.place_order("cy", {{"pen", 4}}, "o-3").status == 201);
  REQUIRE(c.await_decided("o-3") == "confirmed");
  CHECK(eventually([&] { return inventory_at(c, "pen")["reserved"] == 4; }));
  auto cancelled = c.post("/orders/o-3/cancel", {{"reason", "changed my mind"}});
  REQUIRE(cancelled.status == 200);
  auto o = c.order("o-3", cancelled.position());
  CHECK(o.json["status"] == "cancelled");
  CHECK(o.json["reason"] == "changed my mind");
  CHECK(eventually([&] { return inventory_at(c, "pen")["available"] == 5; }));
  // The stock is free for the next order.
  REQUIRE(c.place_order("cy", {{"pen", 5}}, "o-4").status == 201);
  CHECK(c.await_decided("o-4") == "confirmed");
}

TEST_CASE("orders need catalog skus and fresh ids", "[shop][contract][lifecycle]") {
  shop_fixture f;
  auto c = f.client();
  REQUIRE(c.create_product("pen", "Pen", 250).status == 201);
  auto unknown = c.place_order("dan", {{"pen", 1}, {"nib", 1}});
  CHECK(unknown.status == 409);
  CHECK(unknown.error() == "rejected");
  CHECK(unknown.json["message"].get<std::string>().find("nib") != std::string::npos);
  REQUIRE(c.place_order("dan", {{"pen", 1}}, "o-5").status == 201);
  auto twice = c.place_order("dan", {{"pen", 1}}, "o-5");
  CHECK(twice.status == 409);
  CHECK(twice.error() == "already_exists");
  CHECK(c.post("/orders/o-404/pay", {{"amount_cents", 1}}).error() == "not_found");
  CHECK(c.post("/orders/o-404/ship", json::object()).status == 404);
  CHECK(c.post("/orders/o-404/cancel", json::object()).status == 404);
  CHECK(c.order("o-404").status == 404);
  // A price change applies to orders placed after it, at once.
  auto priced = c.post("/products/pen/price", {{"price_cents", 999}});
  REQUIRE(priced.status == 200);
  auto o6 = c.place_order("dan", {{"pen", 1}}, "o-6");
  REQUIRE(o6.status == 201);
  CHECK(c.order("o-6", o6.position()).json["total_cents"] == 999);
}

TEST_CASE("orders passivated between their steps, one live at a time, go through their life "
          "cycle from the states they left",
          "[shop][contract][lifecycle][passivation]") {
  shop_fixture f{{"--max-live-orders", "1"}};
  auto c = f.client();
  REQUIRE(c.create_product("pen", "Pen", 250).status == 201);
  REQUIRE(c.restock("pen", 10).status == 200);
  // Each order's step passivates the other, whose next step starts from its kept state.
  REQUIRE(c.place_order("ann", {{"pen", 1}}, "o-1").status == 201);
  REQUIRE(c.place_order("bob", {{"pen", 2}}, "o-2").status == 201);
  REQUIRE(c.await_decided("o-1") == "confirmed");
  REQUIRE(c.await_decided("o-2") == "confirmed");
  CHECK(c.post("/orders/o-1/pay", {{"amount_cents", 500}}).error() == "rejected"); // 250 due
  auto paid1 = c.post("/orders/o-1/pay", {{"amount_cents", 250}});
  REQUIRE(paid1.status == 200);
  CHECK(paid1.json["version"] == 3);
  auto paid2 = c.post("/orders/o-2/pay", {{"amount_cents", 500}});
  REQUIRE(paid2.status == 200);
  CHECK(paid2.json["version"] == 3);
  CHECK(c.post("/orders/o-1/pay", {{"amount_cents", 250}}).error() == "rejected"); // paid
  auto shipped1 = c.post("/orders/o-1/ship", json::object());
  REQUIRE(shipped1.status == 200);
  auto shipped2 = c.post("/orders/o-2/ship", json::object());
  REQUIRE(shipped2.status == 200);
  CHECK(c.order("o-1", shipped2.position()).json["status"] == "shipped");
  CHECK(c.order("o-2", shipped2.position()).json["status"] == "shipped");
  CHECK(eventually([&] { return inventory_at(c, "pen")["on_hand"] == 7; }));
}
