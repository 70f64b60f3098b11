// Snapshot store TCK, modelled on the Akka persistence plugin TCK (SnapshotStoreSpec).
// Most cases start from one stream, "s-1", with snapshots saved at versions 11..15, each
// with an explicit, distinct and increasing timestamp; retention is off (keep all). Run
// against every store implementation (FOR_EACH_STORE); reopening is the LMDB store's own.
#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "journal_test_support.hpp"

using namespace annal;
using journal_test::current_kind;
using journal_test::store_kind;

namespace {

constexpr std::string_view sid = "s-1";

// The timestamp of the fixture snapshot at version v.
timestamp_ns ts_of(stream_version v) {
  return 1'600'000'000'000'000'000 + static_cast<timestamp_ns>(v) * 1'000'000;
}

snapshot_record make_snapshot(std::string_view stream, stream_version v, timestamp_ns ts,
                              std::string state) {
  snapshot_record s;
  s.stream_id = std::string{stream};
  s.version = v;
  s.timestamp = ts;
  s.type = "CounterState";
  s.schema_version = 2;
  s.state = std::move(state);
  return s;
}

std::string state_of(stream_version v) {
  return "state-" + std::to_string(v);
}

std::unique_ptr<event_store> open_snapshot_store(const std::filesystem::path& dir,
                                                 std::size_t keep) {
  store_options o;
  o.dir = dir;
  o.snapshots_to_keep = keep;
  return journal_test::open_store(o);
}

std::optional<snapshot_record> load(event_store& s, std::string_view id,
                                    snapshot_bounds b = {}) {
  auto r = s.load_snapshot(id, b);
  REQUIRE(r);
  return std::move(*r);
}

// The version of the snapshot found, or 0 when none.
stream_version loaded_version(event_store& s, std::string_view id, snapshot_bounds b = {}) {
  auto found = load(s, id, b);
  return found ? found->version : 0;
}

snapshot_bounds up_to_version(stream_version v) {
  snapshot_bounds b;
  b.max_version = v;
  return b;
}

snapshot_bounds up_to_time(timestamp_ns t) {
  snapshot_bounds b;
  b.max_timestamp = t;
  return b;
}

std::vector<stream_version> stored_versions(event_store& s, std::string_view id) {
  std::vector<stream_version> out;
  snapshot_bounds b;
  for (;;) {
    auto found = load(s, id, b);
    if (!found)
      break;
    out.insert(out.begin(), found->version);
    if (found->version == 1)
      break;
    b.max_version = found->version - 1;
  }
  return out;
}

struct snapshot_fixture {
  test::temp_dir dir;
  std::unique_ptr<event_store> store;

  // Opened on first use, after FOR_EACH_STORE chose the kind.
  event_store& s() {
    if (!store) {
      store = open_snapshot_store(dir.path() / "store", 0);
      for (stream_version v = 11; v <= 15; ++v)
        REQUIRE(store->save_snapshot(make_snapshot(sid, v, ts_of(v), state_of(v))));
    }
    return *store;
  }
};

using V = std::vector<stream_version>;

} // namespace

TEST_CASE_METHOD(snapshot_fixture, "no snapshot is found for an unknown stream",
                 "[snapshot][tck]") {
  FOR_EACH_STORE();
  CHECK_FALSE(load(s(), "unknown"));
  // A stream whose id extends the fixture's id shares no snapshots with it.
  CHECK_FALSE(load(s(), "s-10"));
  CHECK_FALSE(load(s(), "s-"));
}

TEST_CASE_METHOD(snapshot_fixture, "no snapshot is found when the bounds exclude them all",
                 "[snapshot][tck]") {
  FOR_EACH_STORE();
  CHECK_FALSE(load(s(), sid, up_to_version(7)));
  CHECK_FALSE(load(s(), sid, up_to_version(10)));
  CHECK_FALSE(load(s(), sid, up_to_time(ts_of(11) - 1)));
  snapshot_bounds above;
  above.min_version = 16;
  CHECK_FALSE(load(s(), sid, above));
  snapshot_bounds later;
  later.min_timestamp = ts_of(15) + 1;
  CHECK_FALSE(load(s(), sid, later));
}

TEST_CASE_METHOD(snapshot_fixture, "the newest snapshot is loaded", "[snapshot][tck]") {
  FOR_EACH_STORE();
  auto found = load(s(), sid);
  REQUIRE(found);
  CHECK(found->stream_id == sid);
  CHECK(found->version == 15);
  CHECK(found->timestamp == ts_of(15));
  CHECK(found->type == "CounterState");
  CHECK(found->schema_version == 2);
  CHECK(found->state == state_of(15));
}

TEST_CASE_METHOD(snapshot_fixture, "the newest snapshot at or below a version is loaded",
                 "[snapshot][tck]") {
  FOR_EACH_STORE();
  auto found = load(s(), sid, up_to_version(13));
  REQUIRE(found);
  CHECK(found->version == 13);
  CHECK(found->state == state_of(13));
  CHECK(found->timestamp == ts_of(13));
  CHECK(loaded_version(s(), sid, up_to_version(11)) == 11);
  CHECK(loaded_version(s(), sid, up_to_version(100)) == 15);
}

TEST_CASE_METHOD(snapshot_fixture,
                 "the newest snapshot within a version and a timestamp bound is loaded",
                 "[snapshot][tck]") {
  FOR_EACH_STORE();
  snapshot_bounds b;
  b.max_version = 14;
  b.max_timestamp = ts_of(12);
  auto found = load(s(), sid, b);
  REQUIRE(found);
  CHECK(found->version == 12);
  CHECK(found->state == state_of(12));
  // The timestamp bound alone, falling between two snapshots.
  CHECK(loaded_version(s(), sid, up_to_time(ts_of(14) - 1)) == 13);
  // Lower bounds select too.
  snapshot_bounds window;
  window.min_version = 12;
  window.max_version = 14;
  CHECK(loaded_version(s(), sid, window) == 14);
  snapshot_bounds time_window;
  time_window.min_timestamp = ts_of(12);
  time_window.max_timestamp = ts_of(13);
  CHECK(loaded_version(s(), sid, time_window) == 13);
  snapshot_bounds exact;
  exact.min_version = exact.max_version = 12;
  CHECK(loaded_version(s(), sid, exact) == 12);
}

TEST_CASE_METHOD(snapshot_fixture, "a snapshot is deleted by version", "[snapshot][tck]") {
  FOR_EACH_STORE();
  REQUIRE(s().delete_snapshot(sid, 15));
  CHECK(loaded_version(s(), sid) == 14);
  REQUIRE(s().delete_snapshot(sid, 13));
  CHECK(loaded_version(s(), sid, up_to_version(13)) == 12);
  CHECK(stored_versions(s(), sid) == V{11, 12, 14});
  // Deleting a missing version is harmless.
  REQUIRE(s().delete_snapshot(sid, 13));
  REQUIRE(s().delete_snapshot("unknown", 1));
  CHECK(stored_versions(s(), sid) == V{11, 12, 14});
}

TEST_CASE_METHOD(snapshot_fixture, "every snapshot within bounds is deleted and counted",
                 "[snapshot][tck]") {
  FOR_EACH_STORE();
  snapshot_bounds middle;
  middle.min_version = 12;
  middle.max_version = 14;
  auto n = s().delete_snapshots(sid, middle);
  REQUIRE(n);
  CHECK(*n == 3);
  CHECK(stored_versions(s(), sid) == V{11, 15});

  auto by_time = s().delete_snapshots(sid, up_to_time(ts_of(12)));
  REQUIRE(by_time);
  CHECK(*by_time == 1);
  CHECK(stored_versions(s(), sid) == V{15});

  auto none = s().delete_snapshots(sid, up_to_version(14));
  REQUIRE(none);
  CHECK(*none == 0);

  auto rest = s().delete_snapshots(sid, snapshot_bounds{});
  REQUIRE(rest);
  CHECK(*rest == 1);
  CHECK_FALSE(load(s(), sid));
  auto stats = s().stats();
  REQUIRE(stats);
  CHECK(stats->snapshots == 0);
}

TEST_CASE_METHOD(snapshot_fixture, "deleting snapshots leaves other streams alone",
                 "[snapshot]") {
  FOR_EACH_STORE();
  REQUIRE(s().save_snapshot(make_snapshot("s-10", 12, ts_of(12), "other")));
  REQUIRE(s().save_snapshot(make_snapshot("s-0", 12, ts_of(12), "other")));
  auto n = s().delete_snapshots(sid, snapshot_bounds{});
  REQUIRE(n);
  CHECK(*n == 5);
  CHECK(loaded_version(s(), "s-10") == 12);
  CHECK(loaded_version(s(), "s-0") == 12);
  CHECK_FALSE(load(s(), sid));
}

TEST_CASE_METHOD(snapshot_fixture, "saving again at the same version overwrites",
                 "[snapshot][tck]") {
  FOR_EACH_STORE();
  auto replacement = make_snapshot(sid, 13, ts_of(13) + 10, "new-13");
  replacement.type = "OtherState";
  replacement.schema_version = 5;
  REQUIRE(s().save_snapshot(replacement));
  auto found = load(s(), sid, up_to_version(13));
  REQUIRE(found);
  CHECK(found->version == 13);
  CHECK(found->state == "new-13");
  CHECK(found->type == "OtherState");
  CHECK(found->schema_version == 5);
  CHECK(found->timestamp == ts_of(13) + 10);
  CHECK(stored_versions(s(), sid) == V{11, 12, 13, 14, 15});
  auto stats = s().stats();
  REQUIRE(stats);
  CHECK(stats->snapshots == 5);
}

TEST_CASE_METHOD(snapshot_fixture, "a 10 kB snapshot round-trips byte-exact", "[snapshot][tck]") {
  FOR_EACH_STORE();
  std::string state(10 * 1024, '\0');
  for (std::size_t i = 0; i < state.size(); ++i)
    state[i] = static_cast<char>((i * 131 + 7) & 0xff);
  REQUIRE(s().save_snapshot(make_snapshot(sid, 16, ts_of(16), state)));
  auto found = load(s(), sid);
  REQUIRE(found);
  CHECK(found->version == 16);
  CHECK(found->state.size() == state.size());
  CHECK(found->state == state);
}

TEST_CASE("a snapshot with timestamp 0 is stamped when saved", "[snapshot]") {
  FOR_EACH_STORE();
  test::temp_dir dir;
  auto s = open_snapshot_store(dir.path(), 0);
  auto before = now_ns();
  REQUIRE(s->save_snapshot(make_snapshot("t-1", 3, 0, "x")));
  auto after = now_ns();
  auto found = load(*s, "t-1");
  REQUIRE(found);
  CHECK(found->timestamp >= before);
  CHECK(found->timestamp <= after);
}

TEST_CASE("invalid snapshots are refused with bad_request", "[snapshot]") {
  FOR_EACH_STORE();
  test::temp_dir dir;
  store_options o;
  o.dir = dir.path();
  o.max_payload_size = 100;
  auto opened = journal_test::open_store(o);
  auto& s = *opened;
  auto refused = [&](snapshot_record r) {
    auto ok = s.save_snapshot(std::move(r));
    REQUIRE_FALSE(ok);
    CHECK(ok.code() == errc::bad_request);
  };
  refused(make_snapshot("", 1, 1, "x"));
  refused(make_snapshot(std::string("a\0b", 3), 1, 1, "x"));
  refused(make_snapshot("t-1", 0, 1, "x"));
  auto no_type = make_snapshot("t-1", 1, 1, "x");
  no_type.type.clear();
  refused(no_type);
  refused(make_snapshot("t-1", 1, 1, std::string(101, 'x')));
  REQUIRE(s.save_snapshot(make_snapshot("t-1", 1, 1, std::string(100, 'x'))));
  auto stats = s.stats();
  REQUIRE(stats);
  CHECK(stats->snapshots == 1);
}

TEST_CASE("retention keeps only the newest K snapshots of each stream", "[snapshot][tck]") {
  FOR_EACH_STORE();
  test::temp_dir dir;
  auto s = open_snapshot_store(dir.path(), 2);
  CHECK(s->options().snapshots_to_keep == 2);
  for (stream_version v = 1; v <= 5; ++v) {
    REQUIRE(s->save_snapshot(make_snapshot("r-1", v, ts_of(v), state_of(v))));
    REQUIRE(s->save_snapshot(make_snapshot("r-10", v * 10, ts_of(v), state_of(v))));
  }
  CHECK(stored_versions(*s, "r-1") == V{4, 5});
  CHECK(stored_versions(*s, "r-10") == V{40, 50});
  CHECK_FALSE(load(*s, "r-1", up_to_version(3)));
  auto stats = s->stats();
  REQUIRE(stats);
  CHECK(stats->snapshots == 4);
  // After a save, the two newest remain.
  REQUIRE(s->save_snapshot(make_snapshot("r-1", 9, ts_of(9), state_of(9))));
  CHECK(stored_versions(*s, "r-1") == V{5, 9});
  auto newest = load(*s, "r-1");
  REQUIRE(newest);
  CHECK(newest->state == state_of(9));
}

TEST_CASE("retention 0 keeps every snapshot", "[snapshot][tck]") {
  FOR_EACH_STORE();
  test::temp_dir dir;
  auto s = open_snapshot_store(dir.path(), 0);
  V all;
  for (stream_version v = 1; v <= 12; ++v) {
    REQUIRE(s->save_snapshot(make_snapshot("r-1", v, ts_of(v), state_of(v))));
    all.push_back(v);
  }
  CHECK(stored_versions(*s, "r-1") == all);
  auto stats = s->stats();
  REQUIRE(stats);
  CHECK(stats->snapshots == 12);
}

TEST_CASE("by default the store keeps the newest 3 snapshots", "[snapshot]") {
  FOR_EACH_STORE();
  test::temp_dir dir;
  store_options o;
  o.dir = dir.path();
  auto opened = journal_test::open_store(o);
  auto& s = *opened;
  for (stream_version v = 1; v <= 6; ++v)
    REQUIRE(s.save_snapshot(make_snapshot("r-1", v, ts_of(v), state_of(v))));
  CHECK(stored_versions(s, "r-1") == V{4, 5, 6});
}

TEST_CASE("snapshots survive reopening the store", "[snapshot][tck]") {
  current_kind = store_kind::lmdb; // reopening a folder: the LMDB store only
  test::temp_dir dir;
  std::string big(4096, 'z');
  {
    auto s = open_snapshot_store(dir.path(), 0);
    for (stream_version v = 11; v <= 15; ++v)
      REQUIRE(s->save_snapshot(make_snapshot(sid, v, ts_of(v), state_of(v))));
    REQUIRE(s->save_snapshot(make_snapshot("other", 3, ts_of(3), big)));
  }
  auto s = open_snapshot_store(dir.path(), 0);
  CHECK(stored_versions(*s, sid) == V{11, 12, 13, 14, 15});
  for (stream_version v = 11; v <= 15; ++v) {
    auto found = load(*s, sid, up_to_version(v));
    REQUIRE(found);
    CHECK(found->version == v);
    CHECK(found->state == state_of(v));
    CHECK(found->timestamp == ts_of(v));
    CHECK(found->type == "CounterState");
    CHECK(found->schema_version == 2);
  }
  auto other = load(*s, "other");
  REQUIRE(other);
  CHECK(other->state == big);
}
