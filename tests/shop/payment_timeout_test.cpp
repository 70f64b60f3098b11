// The payment timeout: a confirmed order left unpaid is cancelled by a durable timer, and
// its stock is released, also when the node was down when the timer came due.
#include <catch2/catch.hpp>

#include <thread>

#include "shop_fixture.hpp"

using namespace shop::test;
using nlohmann::json;

TEST_CASE("an unpaid order is cancelled after the payment timeout", "[shop][timeout]") {
  shop_fixture f{{"--payment-timeout", "1500ms"}};
  auto c = f.client();
  REQUIRE(c.create_product("pen", "Pen", 100).status == 201);
  REQUIRE(c.restock("pen", 5).status == 200);
  REQUIRE(c.place_order("ann", {{"pen", 2}}, "unpaid").status == 201);
  REQUIRE(c.place_order("ann", {{"pen", 1}}, "paid").status == 201);
  REQUIRE(c.await_decided("unpaid") == "confirmed");
  REQUIRE(c.await_decided("paid") == "confirmed");
  REQUIRE(c.post("/orders/paid/pay", {{"amount_cents", 100}}).status == 200);
  CHECK(eventually([&] { return c.get("/inventory/pen").json["reserved"] == 3; }));
  CHECK(eventually([&] { return c.order("unpaid").json["status"] == "cancelled"; },
                   std::chrono::seconds(20)));
  auto o = c.order("unpaid");
  CHECK(o.json["reason"] == "payment timeout");
  CHECK(eventually([&] { return c.get("/inventory/pen").json["reserved"] == 1; }));
  CHECK(c.order("paid").json["status"] == "paid");
  auto trail = c.get("/streams/order-unpaid/events");
  CHECK(trail.json["events"].back()["metadata"]["command_id"].get<std::string>().rfind("timer/", 0) == 0);
}

TEST_CASE("the payment timer survives a restart (kill -9 and SIGTERM)", "[shop][timeout]") {
  auto stop = GENERATE(as<std::string>{}, "kill", "term");
  shop_fixture f{{"--payment-timeout", "2s"}};
  auto c = f.client();
  REQUIRE(c.create_product("pen", "Pen", 100).status == 201);
  REQUIRE(c.restock("pen", 5).status == 200);
  REQUIRE(c.place_order("ann", {{"pen", 2}}, "unpaid").status == 201);
  REQUIRE(c.place_order("ann", {{"pen", 1}}, "paid").status == 201);
  REQUIRE(c.await_decided("unpaid") == "confirmed");
  REQUIRE(c.await_decided("paid") == "confirmed");
  REQUIRE(c.post("/orders/paid/pay", {{"amount_cents", 100}}).status == 200);
  auto confirmed_at = std::chrono::steady_clock::now();
  if (stop == "kill")
    f.node->kill9();
  else
    REQUIRE(f.node->terminate() == 0);
  CHECK(c.order("unpaid").status == 0); // it is down
  // Down while the timer comes due; it fires after the restart.
  std::this_thread::sleep_for(std::chrono::seconds(2) - (std::chrono::steady_clock::now() - confirmed_at)
                              + std::chrono::milliseconds(300));
  f.start({"--payment-timeout", "2s"});
  c = f.client();
  CHECK(eventually([&] { return c.order("unpaid").json["status"] == "cancelled"; },
                   std::chrono::seconds(20)));
  CHECK(eventually([&] { return c.get("/inventory/pen").json["reserved"] == 1; }));
  CHECK(c.order("paid").json["status"] == "paid");
  // Exactly one cancellation, however often the timer was looked at.
  auto trail = c.get("/streams/order-unpaid/events");
  CHECK(trail.json["events"].size() == 3);
}
