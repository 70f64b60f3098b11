// The read-only views: stats, streams, events and log, as tables and as JSON lines.
#include <catch2/catch.hpp>

#include "cli_json.hpp"
#include "event_store_impl.hpp"
#include "shop_store.hpp"
#include "temp_dir.hpp"

using namespace annal;
using namespace annal::test;

namespace {

std::vector<std::string> with_data(const temp_dir& d, std::vector<std::string> args) {
  args.insert(args.begin(), {"--data", d.path().string()});
  return args;
}

} // namespace

TEST_CASE("stats counts events, streams, categories and snapshots", "[cli][inspect]") {
  temp_dir data;
  write_shop_journal(data.path());
  {
    auto store = open_test_journal(data.path());
    snapshot_order(*store, "o-1");
  }
  auto r = run_annal(with_data(data, {"--json", "stats"}));
  REQUIRE(r.exit_code == 0);
  auto lines = json_lines(r);
  REQUIRE(lines.size() == 1);
  const auto& s = lines[0];
  CHECK(s["events"] == shop_events);
  CHECK(s["streams"] == shop_streams);
  CHECK(s["last_position"] == shop_events);
  CHECK(s["snapshots"] == 1);
  CHECK(s["format_version"] == journal_format_version);
  CHECK(s["node_id"].get<std::string>().size() == 16);
  CHECK(s["journal_file"].get<uint64_t>() > 0);
  CHECK(s["map_used"].get<uint64_t>() <= s["map_size"].get<uint64_t>());
  CHECK(s["categories"] == 3);
  CHECK(s["read_models_file"].is_null());
  std::map<std::string, nlohmann::json> by;
  for (const auto& c : s["by_category"])
    by[c["category"]] = c;
  CHECK(by.at("product")["streams"] == shop_products);
  CHECK(by.at("product")["events"] == shop_products * 2);
  CHECK(by.at("order")["streams"] == shop_orders);
  CHECK(by.at("order")["events"] == shop_orders * 3);
  CHECK(by.at("inventory")["events"] == 1);

  auto table = run_annal(with_data(data, {"stats"}));
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("events") != std::string::npos);
  CHECK(table.out.find("CATEGORY") != std::string::npos);
  CHECK(table.out.find("order") != std::string::npos);
}

TEST_CASE("streams lists ids with heads, by prefix and limit", "[cli][inspect]") {
  temp_dir data;
  write_shop_journal(data.path());
  auto all = run_annal(with_data(data, {"--json", "streams", "--limit", "0"}));
  REQUIRE(all.exit_code == 0);
  CHECK(json_lines(all).size() == shop_streams);

  auto orders = run_annal(with_data(data, {"streams", "--json", "--prefix", "order-", "--limit", "3"}));
  REQUIRE(orders.exit_code == 0);
  auto lines = json_lines(orders);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["stream"] == "order-o-1");
  CHECK(lines[1]["stream"] == "order-o-10"); // id order, not numeric
  CHECK(lines[2]["stream"] == "order-o-2");
  for (const auto& l : lines) {
    CHECK(l["head"] == 3);
    CHECK(l["deleted"] == false);
  }
  auto next = run_annal(with_data(data, {"--json", "streams", "--prefix", "order-", "--after",
                                         "order-o-2", "--limit", "1"}));
  REQUIRE(json_lines(next).at(0)["stream"] == "order-o-3");

  auto table = run_annal(with_data(data, {"streams", "--prefix", "product-"}));
  REQUIRE(table.exit_code == 0);
  auto rows = table.lines();
  REQUIRE(rows.size() == 1 + shop_products);
  CHECK(rows[0].find("STREAM") == 0);
  CHECK(rows[0].find("HEAD") != std::string::npos);
  CHECK(rows[1].find("product-sku-1") == 0);
}

TEST_CASE("events shows one stream with metadata and decoded payloads", "[cli][inspect]") {
  temp_dir data;
  write_shop_journal(data.path());
  auto r = run_annal(with_data(data, {"--json", "events", "order-o-1"}));
  REQUIRE(r.exit_code == 0);
  auto lines = json_lines(r);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["stream"] == "order-o-1");
  CHECK(lines[0]["version"] == 1);
  CHECK(lines[0]["position"] == 12);
  CHECK(lines[0]["type"] == "OrderPlaced");
  CHECK(lines[0]["schema_version"] == 1);
  CHECK(lines[0]["command_id"] == "cmd-order-o-1-1");
  CHECK(lines[0]["correlation_id"] == "corr-order-o-1");
  CHECK(lines[0]["data"]["order_id"] == "o-1");
  CHECK(lines[0]["data"]["total_cents"] == 500);
  CHECK(lines[0]["time"].get<std::string>().back() == 'Z');
  CHECK(lines[2]["type"] == "OrderPaid");
  CHECK(lines[2]["data"]["amount_cents"] == 500);

  auto page = run_annal(with_data(data, {"--json", "events", "order-o-1", "--from", "2", "--limit", "1"}));
  REQUIRE(page.exit_code == 0);
  auto one = json_lines(page);
  REQUIRE(one.size() == 1);
  CHECK(one[0]["version"] == 2);
  CHECK(one[0]["type"] == "OrderConfirmed");

  auto table = run_annal(with_data(data, {"events", "product-sku-2"}));
  INFO(table.out);
  REQUIRE(table.exit_code == 0);
  auto rows = table.lines();
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].find("POSITION") != std::string::npos);
  CHECK(rows[0].find("DATA") != std::string::npos);
  CHECK(rows[1].find("ProductCreated") != std::string::npos);
  CHECK(rows[1].find("cmd=cmd-product-sku-2-1") != std::string::npos);
  CHECK(rows[1].find("\"Product 2\"") != std::string::npos);

  auto missing = run_annal(with_data(data, {"events", "order-nope"}));
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("no stream 'order-nope'") != std::string::npos);
}

TEST_CASE("log pages through the global log and shows unknown types as bytes", "[cli][inspect]") {
  temp_dir data;
  write_shop_journal(data.path());
  {
    auto store = open_test_journal(data.path());
    new_event odd;
    odd.type = "Legacy.Thing";
    odd.payload = std::string("\x01\x02\xff", 3);
    std::vector<new_event> evs{odd};
    REQUIRE(store->append("legacy-1", expected_version::any(), std::move(evs)));
  }
  auto r = run_annal(with_data(data, {"--json", "log", "--after", "10", "--limit", "5"}));
  REQUIRE(r.exit_code == 0);
  auto lines = json_lines(r);
  REQUIRE(lines.size() == 5);
  for (std::size_t i = 0; i < lines.size(); ++i)
    CHECK(lines[i]["position"] == 11 + i);
  CHECK(lines[0]["stream"] == "inventory-sku-1");
  CHECK(lines[0]["data"]["quantity"] == 100);

  auto all = run_annal(with_data(data, {"--json", "log", "--limit", "0"}));
  auto every = json_lines(all);
  REQUIRE(every.size() == shop_events + 1);
  const auto& odd = every.back();
  CHECK(odd["type"] == "Legacy.Thing");
  CHECK(odd["data"].is_null());
  CHECK(odd["payload_base64"] == "AQL/");
  CHECK(odd["decode_error"] == "unknown event type");

  auto table = run_annal(with_data(data, {"log", "--after", "41"}));
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("[undecoded: unknown type, schema v1, 3 bytes] base64:AQL/")
        != std::string::npos);
}
