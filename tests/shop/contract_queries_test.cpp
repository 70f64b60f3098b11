// The query half of the HTTP contract: read-your-writes, temporal reads, the audit trail,
// projections, health and metrics.
#include <catch2/catch.hpp>

#include <set>

#include "shop_fixture.hpp"

using namespace shop::test;
using nlohmann::json;

TEST_CASE("min_position reads your own writes at once", "[shop][contract][query]") {
  shop_fixture f;
  auto c = f.client();
  REQUIRE(c.create_product("pen", "Pen", 100).status == 201);
  for (int i = 1; i <= 25; ++i) {
    auto r = c.restock("pen", 1);
    REQUIRE(r.status == 200);
    auto level = c.get("/inventory/pen?min_position=" + std::to_string(r.position()));
    REQUIRE(level.status == 200);
    CHECK(level.json["on_hand"] == i); // no polling: the read waited for the write
    auto p = c.post("/products/pen/price", {{"price_cents", 100 + i}});
    REQUIRE(p.status == 200);
    CHECK(c.get("/products/pen?min_position=" + std::to_string(p.position())).json["price_cents"] == 100 + i);
  }
}

TEST_CASE("a read model that cannot reach min_position in time answers 504", "[shop][contract][query]") {
  shop_fixture f;
  auto c = f.client();
  REQUIRE(c.create_product("pen", "Pen", 100).status == 201);
  auto started = std::chrono::steady_clock::now();
  auto r = c.get("/products/pen?min_position=1000000");
  auto waited = std::chrono::steady_clock::now() - started;
  CHECK(r.status == 504);
  CHECK(r.error() == "projection_lagging");
  CHECK(waited >= std::chrono::seconds(4)); // it waited (5 s) before giving up
  CHECK(c.get("/products/pen?min_position=1").status == 200);
}

TEST_CASE("an order can be read as of any of its versions", "[shop][contract][query]") {
  shop_fixture f;
  auto c = f.client();
  REQUIRE(c.create_product("pen", "Pen", 100).status == 201);
  REQUIRE(c.restock("pen", 3).status == 200);
  REQUIRE(c.place_order("ann", {{"pen", 2}}, "o-1").status == 201);
  REQUIRE(c.await_decided("o-1") == "confirmed");
  auto paid = c.post("/orders/o-1/pay", {{"amount_cents", 200}});
  REQUIRE(paid.status == 200);
  CHECK(paid.json["version"] == 3);

  auto v1 = c.get("/orders/o-1?at_version=1");
  REQUIRE(v1.status == 200);
  CHECK(v1.json["status"] == "placed");
  CHECK(v1.json["version"] == 1);
  CHECK(v1.json["total_cents"] == 200);
  CHECK(c.get("/orders/o-1?at_version=2").json["status"] == "confirmed");
  CHECK(c.get("/orders/o-1?at_version=3").json["status"] == "paid");
  CHECK(c.get("/orders/o-1?at_version=4").status == 404);
  CHECK(c.get("/orders/o-1?at_version=0").status == 400);
  CHECK(c.get("/orders/o-1?at_version=x").status == 400);
  CHECK(c.get("/orders/o-2?at_version=1").status == 404);
  // The latest, from the read model, matches the latest version loaded from the journal.
  auto now = c.order("o-1", paid.position());
  auto at3 = c.get("/orders/o-1?at_version=3");
  CHECK(now.json == at3.json);
}

TEST_CASE("the audit trail shows every event with its metadata", "[shop][contract][query]") {
  shop_fixture f;
  auto c = f.client();
  REQUIRE(c.create_product("pen", "Pen", 100).status == 201);
  REQUIRE(c.restock("pen", 3).status == 200);
  REQUIRE(c.place_order("ann", {{"pen", 2}}, "o-1", {{"Idempotency-Key", "k1"}}).status == 201);
  REQUIRE(c.await_decided("o-1") == "confirmed");

  auto trail = c.get("/streams/order-o-1/events");
  REQUIRE(trail.status == 200);
  const auto& evs = trail.json["events"];
  REQUIRE(evs.size() == 2);
  CHECK(evs[0]["type"] == "OrderPlaced");
  CHECK(evs[0]["version"] == 1);
  CHECK(evs[0]["schema_version"] == 1);
  CHECK(evs[0]["data"]["customer_id"] == "ann");
  CHECK(evs[0]["data"]["lines"][0]["price_cents"] == 100);
  CHECK(evs[0]["metadata"]["command_id"] == "http/k1");
  CHECK(evs[0]["timestamp"].get<std::string>().size() == 30); // 2024-05-01T12:00:00.123456789Z
  CHECK(evs[1]["type"] == "OrderConfirmed");
  CHECK(evs[1]["metadata"]["causation_id"] == std::to_string(evs[0]["position"].get<uint64_t>()));
  CHECK(evs[1]["metadata"]["correlation_id"] == "order-o-1");
  for (const char* field : {"position", "version", "type", "schema_version", "timestamp", "data", "metadata"})
    CHECK(evs[0].contains(field));

  auto page = c.get("/streams/order-o-1/events?from=2&limit=1");
  REQUIRE(page.json["events"].size() == 1);
  CHECK(page.json["events"][0]["type"] == "OrderConfirmed");
  CHECK(c.get("/streams/order-o-9/events").status == 404);

  auto all = c.get("/events?after=0&limit=2");
  REQUIRE(all.json["events"].size() == 2);
  CHECK(all.json["events"][0]["position"] == 1);
  CHECK(all.json["events"][0]["type"] == "ProductCreated");
  CHECK(all.json["events"][1]["type"] == "StockRestocked");
  auto rest = c.get("/events?after=2");
  REQUIRE(rest.json["events"].size() >= 3); // placed, reserved, confirmed
  CHECK(rest.json["events"][0]["position"] == 3);
  CHECK(c.get("/events?after=1000").json["events"].empty());
}

TEST_CASE("projections, health and metrics report on the node", "[shop][contract][query]") {
  shop_fixture f;
  auto c = f.client();
  REQUIRE(c.create_product("pen", "Pen", 100).status == 201);
  auto r = c.restock("pen", 3);
  REQUIRE(r.status == 200);
  auto health = c.get("/health");
  REQUIRE(health.status == 200);
  CHECK(health.json["status"] == "ok");
  CHECK(health.json["position"].get<uint64_t>() >= 2);

  REQUIRE(c.get("/inventory/pen?min_position=" + std::to_string(r.position())).status == 200);
  auto p = c.get("/projections");
  REQUIRE(p.status == 200);
  std::set<std::string> names;
  for (const auto& x : p.json["projections"]) {
    names.insert(x["name"].get<std::string>());
    for (const char* field : {"name", "status", "position", "lag"})
      CHECK(x.contains(field));
  }
  for (const char* name : {"catalog", "inventory_levels", "order_detail", "customer_orders", "sales", "fulfilment-0"})
    CHECK(names.count(name) == 1);

  auto m = c.get("/metrics");
  REQUIRE(m.status == 200);
  CHECK(m.headers.find("Content-Type")->second.rfind("text/plain", 0) == 0);
  for (const char* metric : {"shop_commands_total{command=\"restock\",outcome=\"ok\"} 1",
                             "shop_command_duration_seconds_bucket{command=\"restock\",le=\"+Inf\"} 1",
                             "annal_events_written_total ", "annal_fsync_batches_total ",
                             "annal_journal_commit_seconds_bucket{le=\"+Inf\"} ",
                             "annal_read_model_commit_seconds_count ",
                             "annal_projection_position{projection=\"catalog\"}",
                             "annal_projection_lag_events{projection=\"sales\"}",
                             "shop_http_responses_total{status=\"201\"} 1"})
    CHECK(m.text.find(metric) != std::string::npos);
}

TEST_CASE("metrics count a rejected command under its own outcome", "[shop][contract][query]") {
  shop_fixture f;
  auto c = f.client();
  REQUIRE(c.create_product("pen", "Pen", 250).status == 201);
  REQUIRE(c.restock("pen", 5).status == 200);
  REQUIRE(c.place_order("ann", {{"pen", 2}}, "o-1").status == 201);
  REQUIRE(c.await_decided("o-1") == "confirmed");

  auto wrong = c.post("/orders/o-1/pay", {{"amount_cents", 499}});
  REQUIRE(wrong.status == 409);
  REQUIRE(wrong.error() == "rejected");
  // An order of an unknown sku is refused before it reaches the aggregate: still a rejection.
  auto unknown = c.place_order("ann", {{"ink", 1}}, "o-2");
  REQUIRE(unknown.status == 409);
  REQUIRE(unknown.error() == "rejected");

  auto m = c.get("/metrics");
  REQUIRE(m.status == 200);
  INFO(m.text);
  for (const char* metric : {"shop_commands_total{command=\"pay_order\",outcome=\"rejected\"} 1\n",
                             "shop_commands_total{command=\"place_order\",outcome=\"rejected\"} 1\n",
                             "shop_commands_total{command=\"place_order\",outcome=\"ok\"} 1\n",
                             "shop_command_duration_seconds_count{command=\"pay_order\"} 1\n",
                             "shop_http_responses_total{status=\"409\"} 2\n"})
    CHECK(m.text.find(metric) != std::string::npos);
  // The rejected payment is not counted as a success.
  CHECK(m.text.find("shop_commands_total{command=\"pay_order\",outcome=\"ok\"}") == std::string::npos);
}
