// A folder written by fulfilment with 8 partitions (the former default) is taken over by
// the single manager of today: nothing is lost or done twice, and new orders are handled.
#include <catch2/catch.hpp>

#include "invariants.hpp"
#include "shop_fixture.hpp"

using namespace shop::test;

TEST_CASE("fulfilment takes over the checkpoints of another partition count", "[shop][fulfilment]") {
  shop_fixture f{{"--fulfilment-partitions", "8"}};
  auto c = f.client();
  REQUIRE(c.create_product("p", "P", 100).status == 201);
  REQUIRE(c.restock("p", 30).status == 200);
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) {
    ids.push_back("o" + std::to_string(i));
    REQUIRE(c.place_order("c", {{"p", 2}}, ids.back()).status == 201);
  }
  REQUIRE(await_quiet(c, ids));
  auto p8 = c.get("/projections");
  REQUIRE(p8.status == 200);
  std::size_t managers = 0;
  for (const auto& p : p8.json["projections"])
    managers += p["name"].get<std::string>().rfind("fulfilment-", 0) == 0 ? 1 : 0;
  CHECK(managers == 8);
  // Cut off while some orders are still being fulfilled, then one manager takes over.
  for (int i = 12; i < 20; ++i) {
    ids.push_back("o" + std::to_string(i));
    REQUIRE(c.place_order("c", {{"p", 2}}, ids.back()).status == 201);
  }
  f.node->kill9();
  f.start();
  c = f.client();
  auto p1 = c.get("/projections");
  REQUIRE(p1.status == 200);
  managers = 0;
  for (const auto& p : p1.json["projections"])
    managers += p["name"].get<std::string>().rfind("fulfilment-", 0) == 0 ? 1 : 0;
  CHECK(managers == 1);
  for (int i = 20; i < 24; ++i) {
    ids.push_back("o" + std::to_string(i));
    REQUIRE(c.place_order("c", {{"p", 2}}, ids.back()).status == 201);
  }
  REQUIRE(await_quiet(c, ids));
  auto broken = check_invariants(c, {"p"}, ids);
  for (const auto& b : broken)
    UNSCOPED_INFO(b);
  CHECK(broken.empty());
  int confirmed = 0;
  for (const auto& id : ids)
    confirmed += c.order(id).json["status"] == "confirmed" ? 1 : 0;
  CHECK(confirmed == 15); // 30 units, 2 per order, none cancelled
}
