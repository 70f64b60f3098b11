// The command half of the HTTP contract against the real binary: status codes, bodies,
// idempotency keys and If-Match.
#include <catch2/catch.hpp>

#include "shop_fixture.hpp"

using namespace shop::test;
using nlohmann::json;

TEST_CASE("products are created once, priced, and read back", "[shop][contract]") {
  shop_fixture f;
  auto c = f.client();
  auto created = c.create_product("pen", "Pen", 250);
  REQUIRE(created.status == 201);
  CHECK(created.json["sku"] == "pen");
  CHECK(created.json["version"] == 1);
  CHECK(created.json["position"].get<uint64_t>() >= 1);

  auto again = c.create_product("pen", "Pen", 250);
  CHECK(again.status == 409);
  CHECK(again.error() == "already_exists");

  auto pos = created.json["position"].get<uint64_t>();
  auto read = c.get("/products/pen?min_position=" + std::to_string(pos));
  REQUIRE(read.status == 200);
  CHECK(read.json == json{{"sku", "pen"}, {"name", "Pen"}, {"price_cents", 250}});

  auto priced = c.post("/products/pen/price", {{"price_cents", 300}});
  REQUIRE(priced.status == 200);
  CHECK(priced.json["version"] == 2);
  auto after = c.get("/products/pen?min_position=" + std::to_string(priced.json["position"].get<uint64_t>()));
  CHECK(after.json["price_cents"] == 300);

  CHECK(c.post("/products/ink/price", {{"price_cents", 300}}).error() == "not_found");
  CHECK(c.get("/products/ink").status == 404);
  CHECK(c.get("/products/ink").error() == "not_found");
}

TEST_CASE("stock is restocked for catalog products only", "[shop][contract]") {
  shop_fixture f;
  auto c = f.client();
  auto created = c.create_product("pen", "Pen", 250);
  REQUIRE(created.status == 201);
  auto none = c.get("/inventory/pen?min_position=" + std::to_string(created.json["position"].get<uint64_t>()));
  REQUIRE(none.status == 200);
  CHECK(none.json == json{{"sku", "pen"}, {"on_hand", 0}, {"reserved", 0}, {"available", 0}});

  auto r = c.restock("pen", 7);
  REQUIRE(r.status == 200);
  CHECK(r.json["sku"] == "pen");
  CHECK(r.json["version"] == 1);
  auto level = c.get("/inventory/pen?min_position=" + std::to_string(r.json["position"].get<uint64_t>()));
  CHECK(level.json == json{{"sku", "pen"}, {"on_hand", 7}, {"reserved", 0}, {"available", 7}});

  CHECK(c.restock("ink", 5).status == 404);
  CHECK(c.get("/inventory/ink").status == 404);
  CHECK(c.restock("pen", 0).status == 400);
  CHECK(c.restock("pen", -3).status == 400);
}

TEST_CASE("an Idempotency-Key answers a repeat with the first response and writes nothing",
          "[shop][contract]") {
  shop_fixture f;
  auto c = f.client();
  REQUIRE(c.create_product("pen", "Pen", 250).status == 201);
  headers key{{"Idempotency-Key", "restock-1"}};
  auto first = c.post("/inventory/pen/restock", {{"quantity", 5}}, key);
  REQUIRE(first.status == 200);
  auto second = c.post("/inventory/pen/restock", {{"quantity", 5}}, key);
  REQUIRE(second.status == 200);
  CHECK(second.json == first.json);
  auto events = c.get("/streams/inventory-pen/events");
  REQUIRE(events.status == 200);
  CHECK(events.json["events"].size() == 1);
  CHECK(events.json["events"][0]["metadata"]["command_id"] == "http/restock-1");

  // An order without an id: the key picks the id, so the retry is the same order.
  headers order_key{{"Idempotency-Key", "order-attempt-1"}};
  REQUIRE(c.restock("pen", 10).status == 200);
  auto o1 = c.place_order("c1", {{"pen", 1}}, {}, order_key);
  REQUIRE(o1.status == 201);
  auto o2 = c.place_order("c1", {{"pen", 1}}, {}, order_key);
  REQUIRE(o2.status == 201);
  CHECK(o1.json == o2.json);
  auto list = c.get("/customers/c1/orders?min_position=" + std::to_string(o2.json["position"].get<uint64_t>()));
  CHECK(list.json["orders"].size() == 1);
  // Without a key, a repeat is a new order with a new id.
  auto o3 = c.place_order("c1", {{"pen", 1}});
  auto o4 = c.place_order("c1", {{"pen", 1}});
  REQUIRE(o3.status == 201);
  REQUIRE(o4.status == 201);
  CHECK(o3.json["order_id"] != o4.json["order_id"]);

  // A repeated create with the same key is not "already_exists": it is the same create.
  headers create_key{{"Idempotency-Key", "create-ink"}};
  nlohmann::json ink = {{"sku", "ink"}, {"name", "Ink"}, {"price_cents", 90}};
  auto c1 = c.post("/products", ink, create_key);
  auto c2 = c.post("/products", ink, create_key);
  CHECK(c1.status == 201);
  CHECK(c2.status == 201);
  CHECK(c1.json == c2.json);
}

TEST_CASE("If-Match guards a command with the stream version", "[shop][contract]") {
  shop_fixture f;
  auto c = f.client();
  REQUIRE(c.create_product("pen", "Pen", 250).status == 201);
  auto ok = c.post("/products/pen/price", {{"price_cents", 260}}, {{"If-Match", "1"}});
  REQUIRE(ok.status == 200);
  CHECK(ok.json["version"] == 2);
  auto stale = c.post("/products/pen/price", {{"price_cents", 270}}, {{"If-Match", "1"}});
  CHECK(stale.status == 409);
  CHECK(stale.error() == "version_conflict");
  auto events = c.get("/streams/product-pen/events");
  CHECK(events.json["events"].size() == 2); // the stale command wrote nothing
  CHECK(c.post("/products/pen/price", {{"price_cents", 270}}, {{"If-Match", "\"2\""}}).status == 200);
  CHECK(c.post("/products/ink/price", {{"price_cents", 270}}, {{"If-Match", "3"}}).error() == "not_found");
  CHECK(c.post("/products/pen/price", {{"price_cents", 270}}, {{"If-Match", "two"}}).status == 400);
}

TEST_CASE("a keyed command that was rejected answers a repeat with the same 409 and writes nothing",
          "[shop][contract]") {
  shop_fixture f;
  auto c = f.client();
  REQUIRE(c.create_product("pen", "Pen", 250).status == 201);
  REQUIRE(c.restock("pen", 5).status == 200);
  REQUIRE(c.place_order("ann", {{"pen", 2}}, "o-1").status == 201);
  REQUIRE(c.await_decided("o-1") == "confirmed");
  auto before = c.get("/streams/order-o-1/events");
  REQUIRE(before.status == 200);
  auto head = c.get("/health").json["position"].get<uint64_t>();

  // Rejected by the order itself (the amount is not the total).
  headers key{{"Idempotency-Key", "pay-o-1"}};
  auto first = c.post("/orders/o-1/pay", {{"amount_cents", 499}}, key);
  REQUIRE(first.status == 409);
  CHECK(first.error() == "rejected");
  auto second = c.post("/orders/o-1/pay", {{"amount_cents", 499}}, key);
  CHECK(second.status == 409);
  CHECK(second.json == first.json);
  CHECK(c.get("/streams/order-o-1/events").json == before.json);

  // Refused by the node before it reaches an aggregate (an unknown sku): the same.
  headers order_key{{"Idempotency-Key", "order-of-ink"}};
  auto refused = c.place_order("ann", {{"ink", 1}}, {}, order_key);
  REQUIRE(refused.status == 409);
  CHECK(refused.error() == "rejected");
  auto again = c.place_order("ann", {{"ink", 1}}, {}, order_key);
  CHECK(again.status == 409);
  CHECK(again.json == refused.json);

  CHECK(c.get("/health").json["position"].get<uint64_t>() == head);
  auto orders = c.get("/customers/ann/orders?min_position=" + std::to_string(head));
  REQUIRE(orders.status == 200);
  CHECK(orders.json["orders"].size() == 1);
  CHECK(c.order("o-1").json["status"] == "confirmed");
}
