// verify passes a clean store and finds each kind of injected damage: a flipped payload
// byte, a lost index entry, an index run at the wrong position, a gap in a stream, an
// undecodable payload, a snapshot that a replay contradicts; and passes a journal killed
// between the slices of an index merge.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "annal/aggregate_traits.hpp"
#include "annal/detail/aggregate_loader.hpp"
#include "cli_json.hpp"
#include "shop/domain/inventory.hpp"
#include "shop/domain/order.hpp"
#include "journal_surgery.hpp"
#include "shop_store.hpp"
#include "temp_dir.hpp"

using namespace annal;
using namespace annal::test;

namespace {

struct verified {
  int exit_code = -1;
  std::vector<nlohmann::json> problems;
  nlohmann::json summary;
  std::vector<nlohmann::json> unknown;
};

verified verify(const temp_dir& data, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--data", data.path().string(), "--json", "verify"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = run_annal(args);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  auto lines = json_lines(r);
  auto summaries = of_kind(lines, "summary");
  REQUIRE(summaries.size() == 1);
  return {r.exit_code, of_kind(lines, "problem"), summaries[0], of_kind(lines, "unknown_type")};
}

bool has_problem(const verified& v, const std::string& check, const std::string& stream = {},
                 uint64_t version = 0) {
  for (const auto& p : v.problems)
    if (p["check"] == check && (stream.empty() || p["stream"] == stream)
        && (version == 0 || p["version"] == version))
      return true;
  return false;
}

} // namespace

namespace {

// A sku with open and closed reservations, snapshotted as a live instance does after a
// restart: its state decoded from an earlier snapshot, then the newer events applied. Its
// hashed maps then list their entries in another order than a replay's: equal states,
// other bytes.
void write_reordered_inventory_snapshot(event_store& store) {
  using traits = aggregate_traits<shop::inventory>;
  const std::string stream = "inventory-sku-2";
  std::vector<shop::inventory::event> before{shop::stock_restocked{100}};
  for (int i = 1; i <= 12; ++i)
    before.push_back(shop::stock_reserved{"o-" + std::to_string(i), 1});
  std::vector<shop::inventory::event> after;
  for (int i = 1; i <= 4; ++i)
    after.push_back(shop::stock_released{"o-" + std::to_string(i), 1});
  for (int i = 13; i <= 20; ++i)
    after.push_back(shop::stock_reserved{"o-" + std::to_string(i), 1});
  std::vector<new_event> evs;
  auto replayed = traits::initial_state();
  for (const auto* part : {&before, &after})
    for (const auto& e : *part) {
      std::visit([&](const auto& x) { evs.push_back(shop_event(x, stream, evs.size() + 1)); }, e);
      traits::apply(replayed, e);
    }
  auto version = evs.size();
  (void)store.append(stream, expected_version::no_stream(), std::move(evs)).value();
  auto live = traits::initial_state();
  for (const auto& e : before)
    traits::apply(live, e);
  live = from_bytes<shop::inventory_state>(to_bytes(live).value()).value(); // the restart
  for (const auto& e : after)
    traits::apply(live, e);
  // The premise: what verify compared until stop 40 (the stored state decoded and encoded
  // again, against the replay's bytes) differs.
  auto stored_again = from_bytes<shop::inventory_state>(to_bytes(live).value()).value();
  REQUIRE(to_bytes(stored_again).value() != to_bytes(replayed).value());
  REQUIRE(live == replayed);
  snapshot_record s;
  s.stream_id = stream;
  s.version = version;
  s.type = traits::snapshot_type();
  s.schema_version = traits::snapshot_schema();
  s.state = to_bytes(detail::snapshot_payload<shop::inventory>{std::move(live), {}}).value();
  REQUIRE(store.save_snapshot(std::move(s)));
}

} // namespace

TEST_CASE("verify compares a snapshot with its replay as states, not as bytes", "[cli][verify]") {
  temp_dir data;
  write_shop_journal(data.path());
  {
    auto store = open_test_journal(data.path());
    write_reordered_inventory_snapshot(*store);
  }
  auto v = verify(data);
  CHECK(v.exit_code == 0);
  CHECK(v.problems.empty());
  CHECK(v.summary["snapshots"] == 1);
  CHECK(v.summary["snapshots_matched"] == 1);
}

TEST_CASE("verify passes a clean store and checks snapshots by replay", "[cli][verify]") {
  temp_dir data;
  write_shop_journal(data.path());
  {
    auto store = open_test_journal(data.path());
    snapshot_order(*store, "o-1");
    snapshot_order(*store, "o-2");
  }
  auto v = verify(data);
  CHECK(v.exit_code == 0);
  CHECK(v.problems.empty());
  CHECK(v.summary["ok"] == true);
  CHECK(v.summary["events"] == shop_events);
  CHECK(v.summary["payloads_decoded"] == shop_events);
  CHECK(v.summary["index_entries"] == shop_products + 1 + shop_orders * 3); // one per append
  CHECK(v.summary["indexed_events"] == shop_events);
  CHECK(v.summary["streams"] == shop_streams);
  CHECK(v.summary["snapshots"] == 2);
  CHECK(v.summary["snapshots_matched"] == 2);

  auto table = run_annal({"--data", data.path().string(), "verify"});
  CHECK(table.exit_code == 0);
  CHECK(table.out.find("OK: no problem found") != std::string::npos);
}

TEST_CASE("verify passes truncated and deleted streams", "[cli][verify]") {
  temp_dir data;
  write_shop_journal(data.path());
  {
    auto store = open_test_journal(data.path());
    snapshot_order(*store, "o-7");
    REQUIRE(store->truncate_stream("order-o-7", 2));
    REQUIRE(store->delete_stream("order-o-8"));
    REQUIRE(store->truncate_stream("product-sku-3", 1)); // splits a run of two
    REQUIRE(store->append("order-o-7", expected_version::exact(3),
                          {shop_event(shop::order_shipped{}, "order-o-7", 4)}));
  }
  auto v = verify(data);
  CHECK(v.exit_code == 0);
  CHECK(v.problems.empty());
  CHECK(v.summary["events"] == shop_events - 2 - 3 - 1 + 1);
  CHECK(v.summary["indexed_events"] == shop_events - 2 - 3 - 1 + 1);
  CHECK(v.summary["streams"] == shop_streams);
  CHECK(v.summary["snapshots"] == 1);
  CHECK(v.summary["snapshots_not_replayable"] == 1);

  auto events = run_annal({"--data", data.path().string(), "--json", "events", "product-sku-3"});
  REQUIRE(events.exit_code == 0);
  auto lines = json_lines(events);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["version"] == 2);
  auto deleted = run_annal({"--data", data.path().string(), "events", "order-o-8"});
  CHECK(deleted.exit_code == 1);
  CHECK(deleted.err.find("deleted") != std::string::npos);
}

TEST_CASE("verify finds a deleted stream missing from the index of deleted and truncated streams",
          "[cli][verify]") {
  temp_dir data;
  write_shop_journal(data.path());
  {
    auto store = open_test_journal(data.path());
    REQUIRE(store->delete_stream("order-o-8"));
    REQUIRE(store->truncate_stream("order-o-7", 1));
  }
  CHECK(verify(data).problems.empty());
  journal_surgery{data / "journal"}.erase_trimmed_entry("order-o-8");
  auto v = verify(data);
  CHECK(v.exit_code == 1);
  REQUIRE(v.problems.size() == 1);
  CHECK(has_problem(v, "trimmed_index", "order-o-8"));
}

TEST_CASE("verify finds a flipped payload byte", "[cli][verify]") {
  temp_dir data;
  write_shop_journal(data.path());
  journal_surgery{data / "journal"}.flip_payload_byte(13);
  auto v = verify(data);
  CHECK(v.exit_code == 1);
  REQUIRE(v.problems.size() == 1);
  CHECK(v.problems[0]["check"] == "event_checksum");
  CHECK(v.problems[0]["position"] == 13);
  CHECK(v.summary["ok"] == false);
  CHECK(v.summary["problems"] == 1);

  auto table = run_annal({"--data", data.path().string(), "verify"});
  CHECK(table.exit_code == 1);
  CHECK(table.out.find("event_checksum") != std::string::npos);
  CHECK(table.out.find("FAILED: 1 problem(s) found") != std::string::npos);
}

TEST_CASE("verify finds a deleted index entry", "[cli][verify]") {
  temp_dir data;
  write_shop_journal(data.path());
  auto position = journal_surgery{data / "journal"}.erase_index_run("order-o-3", 2);
  auto v = verify(data);
  CHECK(v.exit_code == 1);
  CHECK(has_problem(v, "event_index", "order-o-3", 2));
  CHECK(has_problem(v, "stream_versions", "order-o-3", 3));
  for (const auto& p : v.problems)
    if (p["check"] == "event_index")
      CHECK(p["position"] == position);
}

TEST_CASE("verify reports a stream index run that points at the wrong position", "[cli][verify]") {
  temp_dir data;
  write_shop_journal(data.path());
  auto clean = verify(data);
  REQUIRE(clean.exit_code == 0);
  REQUIRE(clean.problems.empty());

  // order-o-3 is v1..v3 at positions 18, 19, 20, a run each. Its v3 run is sent back to
  // 18, where its own v1 lies: before the end of the v2 run (19).
  auto before = journal_surgery{data / "journal"}.move_index_run("order-o-3", 3, 18);
  REQUIRE(before == 20);
  auto v = verify(data);
  CHECK(v.exit_code == 1);
  CHECK(v.summary["ok"] == false);
  REQUIRE(has_problem(v, "stream_positions", "order-o-3", 3));
  for (const auto& p : v.problems) {
    INFO(p.dump());
    CHECK(p["stream"] == "order-o-3"); // nothing else is reported as damaged
    if (p["check"] == "stream_positions") {
      CHECK(p["position"] == 18);
      CHECK(p["message"].get<std::string>().find("not after the previous run's 19")
            != std::string::npos);
    }
  }
  // The run's target holds another version, and the event at 20 lost its index entry.
  CHECK(has_problem(v, "index_target", "order-o-3", 3));
  CHECK(has_problem(v, "event_index", "order-o-3", 3));

  auto table = run_annal({"--data", data.path().string(), "verify"});
  CHECK(table.exit_code == 1);
  CHECK(table.out.find("stream_positions") != std::string::npos);
  CHECK(table.out.find("FAILED") != std::string::npos);
}

TEST_CASE("verify finds a gap in a stream", "[cli][verify]") {
  temp_dir data;
  write_shop_journal(data.path());
  {
    journal_surgery surgery{data / "journal"};
    auto position = surgery.erase_index_run("order-o-4", 2);
    surgery.erase_event(position);
  }
  auto v = verify(data);
  CHECK(v.exit_code == 1);
  REQUIRE(v.problems.size() == 1);
  CHECK(v.problems[0]["check"] == "stream_versions");
  CHECK(v.problems[0]["stream"] == "order-o-4");
  CHECK(v.problems[0]["message"].get<std::string>().find("v2 missing") != std::string::npos);
}

TEST_CASE("verify finds an index entry that points at a missing event", "[cli][verify]") {
  temp_dir data;
  write_shop_journal(data.path());
  journal_surgery{data / "journal"}.erase_event(20);
  auto v = verify(data);
  CHECK(v.exit_code == 1);
  CHECK(has_problem(v, "index_target"));
}

TEST_CASE("verify reports unknown types apart and undecodable known ones as problems",
          "[cli][verify]") {
  temp_dir data;
  write_shop_journal(data.path());
  {
    auto store = open_test_journal(data.path());
    new_event odd;
    odd.type = "Legacy.Thing";
    odd.payload = "abc";
    std::vector<new_event> one{odd};
    REQUIRE(store->append("legacy-1", expected_version::any(), std::move(one)));
  }
  auto clean = verify(data);
  CHECK(clean.exit_code == 0);
  CHECK(clean.summary["unknown_events"] == 1);
  REQUIRE(clean.unknown.size() == 1);
  CHECK(clean.unknown[0]["type"] == "Legacy.Thing");

  {
    auto store = open_test_journal(data.path());
    new_event broken;
    broken.type = "OrderPlaced";
    broken.payload = "\x01";
    std::vector<new_event> one{broken};
    REQUIRE(store->append("order-broken", expected_version::any(), std::move(one)));
  }
  auto v = verify(data);
  CHECK(v.exit_code == 1);
  REQUIRE(v.problems.size() == 1);
  CHECK(v.problems[0]["check"] == "payload");
  CHECK(v.problems[0]["stream"] == "order-broken");
}

TEST_CASE("verify finds a snapshot that a replay contradicts", "[cli][verify]") {
  temp_dir data;
  write_shop_journal(data.path());
  {
    auto store = open_test_journal(data.path());
    snapshot_order(*store, "o-5", true);
    snapshot_order(*store, "o-6");
  }
  auto v = verify(data, {"--sample", "0"});
  CHECK(v.exit_code == 1);
  REQUIRE(v.problems.size() == 1);
  CHECK(v.problems[0]["check"] == "snapshot_replay");
  CHECK(v.problems[0]["stream"] == "order-o-5");
  CHECK(v.summary["snapshots_matched"] == 1);
}

TEST_CASE("verify passes a journal killed between the slices of an index merge", "[cli][verify]") {
  temp_dir data;
  auto journal = data.path() / "journal";
  // A random workload (index_crash_child) merging in slices of two runs, killed after the
  // third slice it committed.
  ::setenv("ANNAL_JOURNAL_CRASH_AT", "merge.committed:3", 1);
  auto child = run_program(ANNAL_INDEX_CRASH_CHILD, {"work", journal.string(), "7", "200", "40", "2"});
  ::unsetenv("ANNAL_JOURNAL_CRASH_AT");
  INFO("child: " << child.out << child.err);
  REQUIRE(child.exit_code != 0);
  REQUIRE_FALSE(journal_surgery{journal}.meta_value("merge_partial").empty());
  auto v = verify(data);
  CHECK(v.exit_code == 0);
  CHECK(v.problems.empty());
  CHECK(v.summary["events"] == v.summary["indexed_events"].get<uint64_t>() + v.summary["tail_events"].get<uint64_t>());
}

TEST_CASE("verify fails on a malformed index-merge record and names it", "[cli][verify]") {
  temp_dir data;
  write_shop_journal(data.path());
  // Shorter than its 8-byte position: the store refuses such a journal as corrupt, and
  // verify says so rather than checking a journal no node would open.
  journal_surgery{data.path() / "journal"}.set_meta_value("merge_partial", "abc");
  auto r = run_annal({"--data", data.path().string(), "verify"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code != 0);
  CHECK((r.out + r.err).find("malformed merge_partial record") != std::string::npos);
}
