// Events and snapshots of types the domain does not know (another service's, or the shop's
// before this build) are shown generically, clearly marked, never as a failure.
#include <catch2/catch.hpp>

#include "cli_json.hpp"
#include "shop_store.hpp"
#include "temp_dir.hpp"

using namespace annal;
using namespace annal::test;

namespace {

// The shop's journal plus legacy-7 v1: an event of a type the shop's domain lacks, at
// schema version 3, with every metadata field set.
void add_foreign_event(const temp_dir& data) {
  auto store = open_test_journal(data.path());
  new_event foreign;
  foreign.type = "Legacy.Thing";
  foreign.schema_version = 3;
  foreign.payload = std::string("\x01\x02\xff", 3);
  foreign.metadata.command_id = "cmd-legacy";
  foreign.metadata.correlation_id = "corr-legacy";
  foreign.metadata.causation_id = "cause-legacy";
  std::vector<new_event> one{foreign};
  REQUIRE(store->append("legacy-7", expected_version::any(), std::move(one)));
}

} // namespace

TEST_CASE("an event type the domain does not know renders generically in text and JSON",
          "[cli][generic]") {
  temp_dir data;
  write_shop_journal(data.path());
  add_foreign_event(data);
  auto dir = data.path().string();

  auto json = run_annal({"--data", dir, "--json", "log", "--after", "40"});
  INFO("stdout: " << json.out << "\nstderr: " << json.err);
  REQUIRE(json.exit_code == 0);
  auto lines = json_lines(json);
  REQUIRE(lines.size() == 2);
  const auto& known = lines[0];
  CHECK(known["type"] == "OrderPaid");
  CHECK(known["data"].is_object());
  CHECK(known.count("payload_base64") == 0);
  const auto& odd = lines[1];
  CHECK(odd["type"] == "Legacy.Thing");
  CHECK(odd["schema_version"] == 3);
  CHECK(odd["command_id"] == "cmd-legacy");
  CHECK(odd["correlation_id"] == "corr-legacy");
  CHECK(odd["causation_id"] == "cause-legacy");
  CHECK(odd["payload_size"] == 3);
  CHECK(odd["data"].is_null());
  CHECK(odd["payload_base64"] == "AQL/");
  CHECK(odd["decode_error"] == "unknown event type");

  auto text = run_annal({"--data", dir, "events", "legacy-7"});
  INFO("table: " << text.out << "\nstderr: " << text.err);
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("Legacy.Thing") != std::string::npos);
  CHECK(text.out.find("cmd=cmd-legacy corr=corr-legacy cause=cause-legacy") != std::string::npos);
  CHECK(text.out.find("[undecoded: unknown type, schema v3, 3 bytes] base64:AQL/")
        != std::string::npos);

  auto shop = run_annal({"--data", dir, "events", "order-o-1", "--limit", "1"});
  REQUIRE(shop.exit_code == 0);
  CHECK(shop.out.find("[undecoded") == std::string::npos);
  CHECK(shop.out.find("\"order_id\"") != std::string::npos);
}

TEST_CASE("a snapshot of a type the domain does not know is counted, not replayed",
          "[cli][generic]") {
  temp_dir data;
  write_shop_journal(data.path());
  add_foreign_event(data);
  {
    auto store = open_test_journal(data.path());
    snapshot_record s;
    s.stream_id = "legacy-7";
    s.version = 1;
    s.type = "legacy.state";
    s.state = std::string("\x00\x07", 2);
    REQUIRE(store->save_snapshot(std::move(s)));
  }
  auto r = run_annal({"--data", data.path().string(), "--json", "verify", "--sample", "0"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 0);
  auto summaries = of_kind(json_lines(r), "summary");
  REQUIRE(summaries.size() == 1);
  CHECK(summaries[0]["snapshots_unknown_type"] == 1);
  CHECK(summaries[0]["unknown_events"] == 1);
}
