// Never oversell: many concurrent clients order a scarce sku; fulfilment reserves through
// the inventory aggregate, which refuses what is not available.
#include <catch2/catch.hpp>

#include <mutex>
#include <atomic>
#include <random>
#include <thread>

#include "invariants.hpp"
#include "shop_fixture.hpp"

using namespace shop::test;
using nlohmann::json;

TEST_CASE("concurrent orders never oversell a scarce sku", "[shop][oversell]") {
  shop_fixture f;
  auto c = f.client();
  REQUIRE(c.create_product("scarce", "Scarce", 500).status == 201);
  REQUIRE(c.create_product("plenty", "Plenty", 100).status == 201);
  REQUIRE(c.restock("scarce", 20).status == 200);
  REQUIRE(c.restock("scarce", 10).status == 200);
  REQUIRE(c.restock("plenty", 100000).status == 200);

  constexpr int clients = 12;
  constexpr int orders_each = 15;
  std::mutex mx;
  std::vector<std::string> ids;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t)
    threads.emplace_back([&, t] {
      auto w = f.client();
      std::mt19937 rng(static_cast<unsigned>(t));
      for (int i = 0; i < orders_each; ++i) {
        std::vector<std::pair<std::string, int64_t>> lines{{"scarce", 1 + rng() % 3}};
        if (rng() % 2)
          lines.emplace_back("plenty", 1 + rng() % 5);
        auto id = "o-" + std::to_string(t) + "-" + std::to_string(i);
        auto r = w.place_order("c" + std::to_string(t), lines, id);
        std::lock_guard<std::mutex> guard{mx};
        if (r.status == 201)
          ids.push_back(id);
        else
          ++failures;
      }
    });
  for (auto& t : threads)
    t.join();
  CHECK(failures == 0);
  REQUIRE(await_quiet(c, ids));

  // Pay, ship and cancel some of the confirmed orders, concurrently too.
  std::vector<std::string> confirmed;
  for (const auto& id : ids)
    if (c.order(id).json["status"] == "confirmed")
      confirmed.push_back(id);
  CHECK(confirmed.size() >= 8); // 30 units, 1-3 per order
  threads.clear();
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      auto w = f.client();
      for (std::size_t i = static_cast<std::size_t>(t); i < confirmed.size(); i += 4) {
        const auto& id = confirmed[i];
        if (i % 3 == 2) {
          (void)w.post("/orders/" + id + "/cancel", json::object());
          continue;
        }
        auto total = w.order(id).json["total_cents"];
        if (w.post("/orders/" + id + "/pay", {{"amount_cents", total}}).status == 200 && i % 3 == 0)
          (void)w.post("/orders/" + id + "/ship", json::object());
      }
    });
  for (auto& t : threads)
    t.join();
  // Stock arrives while orders keep coming: still no oversell.
  REQUIRE(c.restock("scarce", 5).status == 200);
  for (int i = 0; i < 10; ++i) {
    auto id = "late-" + std::to_string(i);
    REQUIRE(c.place_order("late", {{"scarce", 1}}, id).status == 201);
    ids.push_back(id);
  }
  REQUIRE(await_quiet(c, ids));

  auto broken = check_invariants(c, {"scarce", "plenty"}, ids);
  for (const auto& b : broken)
    UNSCOPED_INFO(b);
  CHECK(broken.empty());
  int64_t sold = 0;
  for (const auto& id : ids) {
    auto o = c.order(id);
    auto s = o.json["status"];
    if (s == "confirmed" || s == "paid" || s == "shipped")
      for (const auto& l : o.json["lines"])
        if (l["sku"] == "scarce")
          sold += l["quantity"].get<int64_t>();
  }
  CHECK(sold <= 35);
  CHECK(sold >= 20); // demand (~360 units) far exceeds supply: most of it is taken
}
