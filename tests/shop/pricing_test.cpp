// Orders are priced at the price acknowledged last, from the product aggregates' own
// state: no read model stands between a price change and the next order.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "annal/runtime.hpp"
#include "annal/testing/runtime_fixture.hpp"
#include "shop/domain/order.hpp"
#include "shop/http/request_parser.hpp"
#include "shop/model.hpp"
#include "shop/node/await_live.hpp"
#include "shop/node/shop_service.hpp"
#include "shop_fixture.hpp"

using namespace shop::test;
using nlohmann::json;

namespace {

// A request as the server hands it to the service.
shop::node::http_response call(shop::node::shop_service& svc, const std::string& method,
                               const std::string& path, const std::string& body = {}) {
  shop::http::request_view v;
  v.method = method;
  v.path = path;
  v.body = body;
  v.headers.emplace_back("Content-Type", "application/json");
  auto parsed = shop::http::parse_request(v);
  if (auto* e = std::get_if<shop::http::api_error>(&parsed))
    return shop::node::shop_service::error_response(*e);
  return svc.handle(std::get<shop::http::api_request>(parsed));
}

} // namespace

TEST_CASE("orders and restocks need no catalog read model", "[shop][pricing]") {
  annal::testing::fixture_options o;
  o.configure = [](annal::runtime_config& cfg) { cfg.caf_args = {"--scheduler.max-threads=2"}; };
  o.setup = [](annal::runtime& rt) -> annal::status {
    if (auto ok = shop::register_aggregates(rt); !ok)
      return ok;
    if (auto ok = shop::add_read_models(rt); !ok)
      return ok;
    return shop::add_fulfilment(rt);
  };
  annal::testing::runtime_fixture fx{o};
  auto& rt = fx.rt();
  auto tables = shop::open_read_model_tables(rt.read_models());
  REQUIRE(tables);
  shop::node::await_live(rt, std::chrono::seconds(30));
  shop::node::node_metrics metrics;
  shop::node::shop_service svc{rt, *tables, metrics};

  REQUIRE(call(svc, "POST", "/products", R"({"sku":"pen","name":"Pen","price_cents":250})").status == 201);
  // The catalog stops following the journal: what it holds is stale from now on.
  REQUIRE(rt.stop_projection(shop::catalog_projection));
  REQUIRE(rt.projection(shop::catalog_projection)->state == annal::projection_state::stopped);
  REQUIRE(call(svc, "POST", "/products/pen/price", R"({"price_cents":375})").status == 200);
  REQUIRE(call(svc, "POST", "/products", R"({"sku":"ink","name":"Ink","price_cents":90})").status == 201);

  CHECK(call(svc, "POST", "/inventory/ink/restock", R"({"quantity":3})").status == 200);
  auto unknown = call(svc, "POST", "/inventory/nib/restock", R"({"quantity":3})");
  CHECK(unknown.status == 404);
  CHECK(json::parse(unknown.body)["error"] == "not_found");

  auto placed = call(svc, "POST", "/orders",
                     R"({"order_id":"o-1","customer_id":"ann","lines":[{"sku":"pen","quantity":2},{"sku":"ink","quantity":1}]})");
  INFO(placed.body);
  REQUIRE(placed.status == 201);
  auto order = rt.load<shop::order>("o-1", annal::as_of::version(1));
  REQUIRE(order);
  REQUIRE(order->state.lines.size() == 2);
  CHECK(order->state.lines[0].price_cents == 375); // the acknowledged price, not the catalog's 250
  CHECK(order->state.lines[1].price_cents == 90);  // a product the catalog never saw
  auto rejected = call(svc, "POST", "/orders", R"({"customer_id":"ann","lines":[{"sku":"nib","quantity":1}]})");
  CHECK(rejected.status == 409);
  CHECK(json::parse(rejected.body)["error"] == "rejected");
  REQUIRE(rt.stop());
}

TEST_CASE("an order placed right after a price change is acknowledged has the new price",
          "[shop][pricing]") {
  shop_fixture f;
  constexpr int clients = 8;
  constexpr int rounds = 40;
  {
    auto c = f.client();
    for (int t = 0; t < clients; ++t)
      REQUIRE(c.create_product("sku-" + std::to_string(t), "Item", 100).status == 201);
  }
  std::atomic<int> checked{0}, wrong{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t)
    threads.emplace_back([&, t] {
      auto c = f.client();
      auto sku = "sku-" + std::to_string(t);
      for (int i = 0; i < rounds; ++i) {
        int64_t price = 1000 + t * 1000 + i;
        if (c.post("/products/" + sku + "/price", {{"price_cents", price}}).status != 200) {
          ++failed;
          continue;
        }
        // At once, on the same connection: the order must carry the price just acked.
        auto id = "o-" + std::to_string(t) + "-" + std::to_string(i);
        if (c.place_order("c", {{sku, 1}}, id).status != 201) {
          ++failed;
          continue;
        }
        auto first = c.get("/orders/" + id + "?at_version=1");
        if (first.status != 200 || first.json["lines"][0]["price_cents"] != price)
          ++wrong;
        ++checked;
      }
    });
  for (auto& t : threads)
    t.join();
  CHECK(failed == 0);
  CHECK(wrong == 0);
  CHECK(checked == clients * rounds);
}
