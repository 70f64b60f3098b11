// The asynchronous read-your-writes wait the shop's queries use: a callback on the
// projection's monitor instead of a blocked thread.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <vector>

#include "annal/projection_monitor.hpp"
#include "annal/runtime.hpp"
#include "shop/http/request_parser.hpp"
#include "shop/model.hpp"
#include "shop/node/await_live.hpp"
#include "shop/node/shop_service.hpp"
#include "temp_dir.hpp"

using annal::projection_monitor;
using annal::projection_state;

TEST_CASE("notify_when runs once the position is reached, at once when it is already",
          "[shop][wait]") {
  projection_monitor m{"p"};
  m.set_state(projection_state::live);
  std::vector<bool> got;
  auto ticket = m.notify_when(5, [&](bool reached) { got.push_back(reached); });
  CHECK(ticket != 0);
  m.advance(4);
  CHECK(got.empty());
  m.advance(7);
  CHECK(got == std::vector<bool>{true});
  m.advance(9);
  CHECK(got.size() == 1); // once
  CHECK(m.notify_when(3, [&](bool reached) { got.push_back(reached); }) == 0);
  CHECK(got == std::vector<bool>{true, true});
  CHECK_FALSE(m.cancel(ticket)); // it ran
}

TEST_CASE("a cancelled wait never runs, and a fault or a stop ends every wait", "[shop][wait]") {
  projection_monitor m{"p"};
  m.set_state(projection_state::live);
  int ran = 0;
  std::vector<bool> got;
  auto cancelled = m.notify_when(10, [&](bool) { ++ran; });
  m.notify_when(20, [&](bool reached) { got.push_back(reached); });
  m.notify_when(30, [&](bool reached) { got.push_back(reached); });
  CHECK(m.cancel(cancelled));
  m.advance(25);
  CHECK(ran == 0);
  CHECK(got == std::vector<bool>{true});
  m.set_fault(26, "storage_full: the read-model store is full");
  CHECK(got == std::vector<bool>{true, false});
  // Faulted: a new wait is decided at once.
  m.notify_when(40, [&](bool reached) { got.push_back(reached); });
  CHECK(got == std::vector<bool>{true, false, false});
  m.set_state(projection_state::live);
  m.notify_when(50, [&](bool reached) { got.push_back(reached); });
  m.set_state(projection_state::stopped);
  CHECK(got == std::vector<bool>{true, false, false, false});
}

TEST_CASE("a query waiting on a read model that cannot store answers 507 storage_full",
          "[shop][wait]") {
  annal::test::temp_dir dir;
  annal::runtime_config cfg;
  cfg.data_dir = dir / "data";
  cfg.caf_args = {"--scheduler.max-threads=2"};
  auto opened = annal::runtime::open(cfg);
  REQUIRE(opened);
  auto& rt = **opened;
  REQUIRE(shop::register_aggregates(rt));
  REQUIRE(shop::add_read_models(rt));
  auto tables = shop::open_read_model_tables(rt.read_models());
  REQUIRE(tables);
  REQUIRE(rt.start());
  shop::node::await_live(rt, std::chrono::seconds(30));
  shop::node::node_metrics metrics;
  shop::node::shop_service svc{rt, *tables, metrics};
  // The catalog reports what a full read-model store makes it report: retrying, with the
  // error (the projection's actor does this on ENOSPC / a full map).
  auto monitor = rt.projection_monitor_of(shop::catalog_projection);
  REQUIRE(monitor);
  (*monitor)->set_retrying(1, "storage_full: the read-model store is full");
  shop::http::request_view v;
  v.method = "GET";
  v.path = "/products/pen";
  v.query.emplace_back("min_position", "5");
  auto parsed = shop::http::parse_request(v);
  REQUIRE(std::holds_alternative<shop::http::api_request>(parsed));
  auto answer = svc.handle(std::get<shop::http::api_request>(parsed));
  INFO(answer.body);
  CHECK(answer.status == 507);
  CHECK(nlohmann::json::parse(answer.body)["error"] == "storage_full");
  REQUIRE(rt.stop());
}
