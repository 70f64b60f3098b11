// The deferred stream index of journal format 3 (memtable merged into stream_index in
// batches; meta indexed_through) and the upgrade from format 2. Crash cases use a real
// child process (index_crash_child) killed with SIGKILL at a named phase.
#include <catch2/catch.hpp>

#include <lmdb.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include "annal/event_store.hpp"
#include "annal/layout/merge_progress.hpp"
#include "byte_order.hpp"
#include "child_run.hpp"
#include "envelope_codec.hpp"
#include "shard.hpp"
#include "store_dump.hpp"
#include "temp_dir.hpp"

#ifndef ANNAL_INDEX_CRASH_CHILD
#error "ANNAL_INDEX_CRASH_CHILD must name the index_crash_child executable"
#endif
#ifndef ANNAL_TEST_DATA
#error "ANNAL_TEST_DATA must name tests/data"
#endif

using namespace annal;
using namespace std::chrono_literals;

namespace {

using event_key = std::pair<stream_version, global_position>;

// Every stored event by stream, from a scan of the log (the truth the index must equal).
std::map<std::string, std::vector<event_key>> scan_log(event_store& store) {
  std::map<std::string, std::vector<event_key>> out;
  auto all = store.read_all(0, std::numeric_limits<uint64_t>::max());
  REQUIRE(all);
  for (const auto& e : *all) {
    REQUIRE_FALSE(e.corrupt);
    out[e.stream_id].emplace_back(e.version, e.position);
  }
  return out;
}

std::vector<event_key> keys_of(const std::vector<recorded_event>& events) {
  std::vector<event_key> out;
  for (const auto& e : events)
    out.emplace_back(e.version, e.position);
  return out;
}

// Every read through the index (stream reads forward, backward and by range, heads,
// listings) agrees with the scan of the log.
void check_reads(event_store& store) {
  auto truth = scan_log(store);
  auto streams = store.list_streams("", "", 100000);
  REQUIRE(streams);
  std::set<std::string> listed;
  for (const auto& s : *streams) {
    listed.insert(s.stream_id);
    INFO("stream " << s.stream_id << " head " << s.head << " truncated " << s.truncated_through);
    const auto& want = truth[s.stream_id];
    auto fwd = store.read_stream(s.stream_id);
    if (s.deleted) {
      CHECK(want.empty());
      CHECK((!fwd && fwd.error().code == errc::stream_deleted));
      continue;
    }
    REQUIRE(fwd);
    CHECK(keys_of(*fwd) == want);
    if (s.truncated_through < s.head) {
      REQUIRE_FALSE(want.empty());
      CHECK(want.back().first == s.head);
      CHECK(want.back().second == s.last_position);
    } else {
      CHECK(want.empty());
    }
    auto head = store.stream_head(s.stream_id);
    REQUIRE(head);
    CHECK(head->head == s.head);
    stream_info with_events;
    std::vector<event_key> read_with_head;
    auto n = store.read_stream_and_head(s.stream_id, stream_range{}, with_events,
                                        [&](const event_view& e) {
                                          read_with_head.emplace_back(e.version, e.position);
                                          return true;
                                        });
    REQUIRE(n);
    CHECK(read_with_head == want);
    CHECK(with_events.head == head->head);
    CHECK(with_events.last_position == head->last_position);
    CHECK(with_events.truncated_through == head->truncated_through);
    auto back = store.read_stream_backward(s.stream_id, 0, 1000000);
    REQUIRE(back);
    auto rev = keys_of(*back);
    std::reverse(rev.begin(), rev.end());
    CHECK(rev == want);
    if (want.size() >= 4) {
      auto from = want[1].first, to = want[want.size() - 2].first;
      auto mid = store.read_stream(s.stream_id, stream_range{from, to, 1000000});
      REQUIRE(mid);
      CHECK(keys_of(*mid) == std::vector<event_key>(want.begin() + 1, want.end() - 1));
      auto two = store.read_stream(s.stream_id, stream_range{from, to, 2});
      REQUIRE(two);
      CHECK(keys_of(*two) == std::vector<event_key>(want.begin() + 1, want.begin() + 3));
      auto down = store.read_stream_backward(s.stream_id, want[want.size() - 2].first, 2);
      REQUIRE(down);
      CHECK(keys_of(*down) == std::vector<event_key>{want[want.size() - 2], want[want.size() - 3]});
    }
  }
  for (const auto& [id, events] : truth)
    CHECK(listed.count(id) == 1);
}

struct raw_tables {
  MDB_txn* txn = nullptr;
  MDB_dbi events = 0, index = 0, meta = 0, shards = 0;
  bool has_shards = false;
  explicit raw_tables(event_store& store) {
    auto* env = static_cast<MDB_env*>(store.native_handle());
    REQUIRE(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) == 0);
    REQUIRE(mdb_dbi_open(txn, "events", 0, &events) == 0);
    REQUIRE(mdb_dbi_open(txn, "stream_index", 0, &index) == 0);
    REQUIRE(mdb_dbi_open(txn, "meta", 0, &meta) == 0);
    has_shards = mdb_dbi_open(txn, "shards", 0, &shards) == 0;
  }
  ~raw_tables() { mdb_txn_abort(txn); }
  std::string meta_value(const std::string& key) {
    MDB_val k{key.size(), const_cast<char*>(key.data())}, v;
    if (mdb_get(txn, meta, &k, &v) != 0)
      return {};
    return {static_cast<const char*>(v.mv_data), v.mv_size};
  }
};

// The stored index alone: each entry names events that exist, with its stream and
// versions, at or before indexed_through (or, between the slices of a merge, at or before
// its mark for the streams it stored); and every event up to there has exactly one.
// Returns indexed_through.
global_position check_stored_index(event_store& store) {
  raw_tables raw{store};
  auto mark = raw.meta_value("indexed_through");
  REQUIRE(mark.size() == 8);
  auto indexed = detail::load_be64(mark.data());
  layout::merge_progress merged{indexed, 0, {}};
  if (auto partial = raw.meta_value("merge_partial"); !partial.empty())
    REQUIRE(layout::decode_merge_partial(partial, std::numeric_limits<global_position>::max(), merged));
  auto indexed_for = [&](std::string_view stream) { return merged.indexed_for(stream); };
  std::set<global_position> covered;
  MDB_cursor* c = nullptr;
  REQUIRE(mdb_cursor_open(raw.txn, raw.index, &c) == 0);
  MDB_val k, v;
  for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    std::string_view key{static_cast<const char*>(k.mv_data), k.mv_size};
    auto nul = key.find('\0');
    REQUIRE(nul != std::string_view::npos);
    auto stream = key.substr(0, nul);
    REQUIRE(v.mv_size == 16);
    auto first_version = detail::load_be64(key.data() + nul + 1);
    auto first_position = detail::load_be64(static_cast<const char*>(v.mv_data));
    auto count = detail::load_be64(static_cast<const char*>(v.mv_data) + 8);
    for (uint64_t i = 0; i < count; ++i) {
      auto position = first_position + i;
      INFO("index entry " << stream << " v" << first_version + i << " @" << position);
      CHECK(position <= indexed_for(stream));
      CHECK(covered.insert(position).second);
      char pk[8];
      detail::store_be64(pk, position);
      MDB_val ek{8, pk}, ev;
      REQUIRE(mdb_get(raw.txn, raw.events, &ek, &ev) == 0);
      event_view e;
      REQUIRE(detail::decode_envelope(position, {static_cast<const char*>(ev.mv_data), ev.mv_size}, e));
      CHECK(e.stream_id == stream);
      CHECK(e.version == first_version + i);
    }
  }
  mdb_cursor_close(c);
  MDB_stat st;
  REQUIRE(mdb_cursor_open(raw.txn, raw.events, &c) == 0);
  uint64_t events_through = 0;
  for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    auto position = detail::load_be64(static_cast<const char*>(k.mv_data));
    event_view e;
    REQUIRE(detail::decode_envelope(position, {static_cast<const char*>(v.mv_data), v.mv_size}, e));
    if (position <= indexed_for(e.stream_id))
      ++events_through;
  }
  mdb_cursor_close(c);
  (void)st;
  CHECK(covered.size() == events_through);
  return indexed;
}

// Shards: every event's shard is the hash of its stream; shard positions rise per shard,
// are consecutive from 1 when nothing was deleted, and the shards table holds each head.
void check_shards(event_store& store, bool consecutive) {
  std::map<uint16_t, uint64_t> newest;
  auto all = store.read_all(0, std::numeric_limits<uint64_t>::max());
  REQUIRE(all);
  for (const auto& e : *all) {
    INFO(e.stream_id << " @" << e.position << " shard " << e.shard << "/" << e.shard_position);
    CHECK(e.shard == detail::shard_of(e.stream_id, 64));
    auto& last = newest[e.shard];
    if (consecutive)
      CHECK(e.shard_position == last + 1);
    else
      CHECK(e.shard_position > last);
    last = e.shard_position;
  }
  raw_tables raw{store};
  REQUIRE(raw.has_shards);
  for (const auto& [shard, head] : newest) {
    char key[2];
    detail::store_be16(key, shard);
    MDB_val k{2, key}, v;
    REQUIRE(mdb_get(raw.txn, raw.shards, &k, &v) == 0);
    REQUIRE(v.mv_size == 8);
    auto stored = detail::load_be64(static_cast<const char*>(v.mv_data));
    if (consecutive)
      CHECK(stored == head);
    else
      CHECK(stored >= head);
  }
}

std::unique_ptr<event_store> open_store(const std::filesystem::path& dir, bool read_only,
                                        std::size_t merge_runs = 262144, std::size_t slice_runs = 16384) {
  store_options o;
  o.dir = dir;
  o.read_only = read_only;
  o.mode = durability::no_sync;
  o.index_merge_runs = merge_runs;
  o.index_merge_runs_per_leaf = 0; // exactly merge_runs, however many leaves the index has
  o.index_merge_slice_runs = slice_runs;
  o.index_merge_slice_gap = 0; // a slice after every commit: the tests count them
  auto s = event_store::open(o);
  INFO((s ? "" : s.error().to_string()));
  REQUIRE(s);
  return std::move(*s);
}

// Appends one event (its payload the stream id) to `id`.
result<append_result> append_one(event_store& store, const std::string& id,
                                 expected_version expected = expected_version::any()) {
  return store.append(id, expected, {new_event{"E", 1, id, {}, 0}});
}

// Unsets an environment variable for its lifetime.
class scoped_unsetenv {
public:
  explicit scoped_unsetenv(const char* name) : name_(name) {
    if (const char* v = std::getenv(name)) {
      saved_ = v;
      ::unsetenv(name);
    }
  }
  ~scoped_unsetenv() {
    if (saved_)
      ::setenv(name_, saved_->c_str(), 1);
  }
  scoped_unsetenv(const scoped_unsetenv&) = delete;
  scoped_unsetenv& operator=(const scoped_unsetenv&) = delete;

private:
  const char* name_;
  std::optional<std::string> saved_;
};

// Clears the suites' overrides of the merge sizes (ANNAL_JOURNAL_INDEX_MERGE_*) for its
// lifetime.
struct merge_overrides_cleared {
  scoped_unsetenv runs{"ANNAL_JOURNAL_INDEX_MERGE_RUNS"};
  scoped_unsetenv slice{"ANNAL_JOURNAL_INDEX_MERGE_SLICE"};
  scoped_unsetenv gap{"ANNAL_JOURNAL_INDEX_MERGE_GAP"};
};

// Opens `dir` for writing with exactly these merge sizes, whatever the suites' overrides
// (ANNAL_JOURNAL_INDEX_MERGE_*) say: for tests that count merges or slices.
std::unique_ptr<event_store> open_store_exact(const std::filesystem::path& dir, std::size_t merge_runs,
                                              std::size_t slice_runs = 16384) {
  merge_overrides_cleared cleared;
  return open_store(dir, false, merge_runs, slice_runs);
}

// Runs the child with ANNAL_JOURNAL_CRASH_AT=`crash_at` ("" for none).
test::child_outcome run_index_child(const std::vector<std::string>& args, const std::string& crash_at,
                              const std::string& upgrade_batch = "") {
  if (crash_at.empty())
    ::unsetenv("ANNAL_JOURNAL_CRASH_AT");
  else
    ::setenv("ANNAL_JOURNAL_CRASH_AT", crash_at.c_str(), 1);
  if (upgrade_batch.empty())
    ::unsetenv("ANNAL_JOURNAL_UPGRADE_BATCH");
  else
    ::setenv("ANNAL_JOURNAL_UPGRADE_BATCH", upgrade_batch.c_str(), 1);
  // The child's merge sizes are its arguments, not the suites' overrides.
  merge_overrides_cleared cleared;
  auto r = test::run_child(ANNAL_INDEX_CRASH_CHILD, args, 60s);
  ::unsetenv("ANNAL_JOURNAL_CRASH_AT");
  ::unsetenv("ANNAL_JOURNAL_UPGRADE_BATCH");
  return r;
}

bool killed(const test::child_outcome& r) {
  return r.exit_code == -1 && !r.timed_out;
}

std::string golden_dump() {
  std::ifstream in{std::filesystem::path{ANNAL_TEST_DATA} / "format2_store.txt"};
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::filesystem::path copy_fixture(const test::temp_dir& tmp) {
  auto dir = tmp.path() / "journal";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(std::filesystem::path{ANNAL_TEST_DATA} / "format2_store" / "data.mdb",
                             dir / "data.mdb");
  return dir;
}

uint32_t format_of(event_store& store) {
  raw_tables raw{store};
  auto f = raw.meta_value("format_version");
  REQUIRE(f.size() == 4);
  return detail::load_le<uint32_t>(f.data());
}

} // namespace

TEST_CASE("the stream index equals a full scan of the events after random workloads with "
          "kill -9 at every phase of an index merge",
          "[index][crash]") {
  test::temp_dir tmp;
  auto dir = (tmp.path() / "journal").string();
  // Each round continues the store the previous kill left. Small merge thresholds make
  // merges frequent (inside commits as well as explicit ones and truncations'), and most
  // rounds merge inside commits in slices of a few runs, so kills land between slices.
  const std::vector<std::string> phases = {
    "",                  "merge.begin:2",     "merge.written:1", "merge.committed:1",
    "commit.published:7", "merge.written:3",  "merge.committed:5", "merge.begin:4",
    "commit.published:40", "merge.written:2", "merge.committed:2", ""};
  uint64_t seed = 1000;
  int left_between_slices = 0; // rounds whose kill left a merge between its slices
  for (const auto& phase : phases) {
    ++seed;
    auto merge_runs = std::to_string(3 + seed % 17);
    auto slice_runs = std::to_string(seed % 4 == 0 ? 0 : seed % 4); // 0: whole merges
    auto r = run_index_child({"work", dir, std::to_string(seed), "120", merge_runs, slice_runs}, phase);
    INFO("round " << seed << " phase '" << phase << "': exit " << r.exit_code << "\n" << r.output);
    REQUIRE_FALSE(r.timed_out);
    if (phase.empty())
      REQUIRE(r.exit_code == 0);
    else
      REQUIRE(killed(r));
    {
      // Read-only first: nothing here repairs what the kill left.
      auto store = open_store(dir, true);
      if (!raw_tables{*store}.meta_value("merge_partial").empty())
        ++left_between_slices;
      check_reads(*store);
      check_stored_index(*store);
      check_shards(*store, false);
    }
    {
      auto store = open_store(dir, false);
      check_reads(*store);
      REQUIRE(store->merge_index());
      CHECK(check_stored_index(*store) == store->last_position().value());
      CHECK(raw_tables{*store}.meta_value("merge_partial").empty());
    }
  }
  CHECK(left_between_slices > 0);
}

TEST_CASE("a full memtable is merged in slices, one after each commit, and reads, heads and "
          "conflicts are exact between them",
          "[index]") {
  test::temp_dir tmp;
  auto dir = tmp.path() / "journal";
  auto store = open_store_exact(dir, 40, 8);
  auto append = [&](const std::string& id, expected_version expected = expected_version::any()) {
    return append_one(*store, id, expected);
  };
  auto id = [](int i) { return std::string{"s-"} + (i < 10 ? "0" : "") + std::to_string(i); };
  for (int i = 0; i < 39; ++i)
    REQUIRE(append(id(i)));
  CHECK(raw_tables{*store}.meta_value("merge_partial").empty()); // nothing merged yet
  // The 40th run fills the memtable: this commit writes the first slice (8 streams).
  REQUIRE(append(id(39)));
  auto partial = raw_tables{*store}.meta_value("merge_partial");
  REQUIRE(partial.size() == 8 + 4);
  CHECK(detail::load_be64(partial.data()) == 40);
  CHECK(partial.substr(8) == id(7));
  check_stored_index(*store);
  check_reads(*store);
  // Between slices: a stream already stored and one still in memory take new events; their
  // heads and the expected-version checks see both halves.
  REQUIRE(append(id(3), expected_version::exact(1)));
  CHECK(raw_tables{*store}.meta_value("merge_partial").substr(8) == id(15));
  auto stale = append(id(3), expected_version::exact(1));
  REQUIRE_FALSE(stale);
  CHECK(stale.error().code == errc::conflict);
  REQUIRE(append(id(30), expected_version::exact(1)));
  for (const auto& s : {id(3), id(30)}) {
    auto head = store->stream_head(s);
    REQUIRE(head);
    CHECK(head->head == 2);
    auto events = store->read_stream(s);
    REQUIRE(events);
    CHECK(events->size() == 2);
  }
  check_stored_index(*store);
  check_reads(*store);
  // Three more commits write the last slices; the merge then says it reaches 40.
  for (int i = 0; i < 3; ++i)
    REQUIRE(append("t-" + std::to_string(i)));
  CHECK(raw_tables{*store}.meta_value("merge_partial").empty());
  CHECK(check_stored_index(*store) == 40);
  check_reads(*store);
  // The close merges the rest.
  store.reset();
  store = open_store(dir, true);
  check_reads(*store);
  CHECK(check_stored_index(*store) == store->last_position().value());
}

TEST_CASE("a large stored index waits for runs in proportion to its leaf pages before the "
          "next merge",
          "[index]") {
  test::temp_dir tmp;
  merge_overrides_cleared cleared;
  store_options o;
  o.dir = tmp.path() / "journal";
  o.mode = durability::no_sync;
  o.index_merge_runs = 16;
  o.index_merge_runs_per_leaf = 2;
  o.index_merge_max_runs = 100000;
  o.index_merge_slice_runs = 0; // whole merges: one commit moves indexed_through
  auto opened = event_store::open(o);
  REQUIRE(opened);
  auto store = std::move(*opened);
  auto id = [](int i) { return "stream-" + std::to_string(100000 + i); };
  for (int i = 0; i < 1500; ++i)
    REQUIRE(append_one(*store, id(i)));
  REQUIRE(store->merge_index());
  auto indexed = [&] { return detail::load_be64(raw_tables{*store}.meta_value("indexed_through").data()); };
  std::size_t leaves = 0;
  {
    raw_tables raw{*store};
    MDB_stat st;
    REQUIRE(mdb_stat(raw.txn, raw.index, &st) == 0);
    leaves = st.ms_leaf_pages;
  }
  INFO("leaf pages of stream_index: " << leaves);
  REQUIRE(2 * leaves > 16); // the rule, not index_merge_runs, decides here
  auto merged = indexed();
  CHECK(merged == 1500);
  // The next merge starts with the commit that makes the memtable hold 2 runs per leaf.
  for (std::size_t i = 1; i < 2 * leaves; ++i)
    REQUIRE(append_one(*store, id(static_cast<int>(i % 1500))));
  CHECK(indexed() == merged);
  REQUIRE(append_one(*store, id(7)));
  CHECK(indexed() == merged + 2 * leaves);
  check_stored_index(*store);
  check_reads(*store);
  // A cap below the rule's figure wins.
  store.reset();
  o.index_merge_max_runs = 20;
  opened = event_store::open(o);
  REQUIRE(opened);
  store = std::move(*opened);
  merged = indexed();
  for (int i = 0; i < 19; ++i)
    REQUIRE(append_one(*store, id(i)));
  CHECK(indexed() == merged);
  REQUIRE(append_one(*store, id(19)));
  CHECK(indexed() == merged + 20);
}

TEST_CASE("a run another process continues while a merge is between its slices is stored "
          "only as far as the merge reaches",
          "[index]") {
  test::temp_dir tmp;
  auto dir = tmp.path() / "journal";
  auto store = open_store_exact(dir, 4, 1);
  auto append = [&](const std::string& id) { REQUIRE(append_one(*store, id)); };
  for (const char* id : {"a", "b", "c"})
    append(id);
  append("z"); // z v1 @4 fills the memtable: the merge of a, b, c, z through 4 begins
  REQUIRE(raw_tables{*store}.meta_value("merge_partial").substr(8) == "a");
  // Another process appends z v2 @5; this process's next write indexes it from its
  // header, continuing z's run, which the merge still has to write.
  auto r = run_index_child({"append", dir.string(), "z"}, "");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  for (const char* id : {"d", "e", "f"})
    append(id); // three slices: b, c, then z (the last)
  CHECK(raw_tables{*store}.meta_value("merge_partial").empty());
  CHECK(check_stored_index(*store) == 4);
  auto z = store->read_stream("z");
  REQUIRE(z);
  CHECK(keys_of(*z) == std::vector<event_key>{{1, 4}, {2, 5}});
  check_reads(*store);
  REQUIRE(store->merge_index());
  CHECK(check_stored_index(*store) == store->last_position().value());
  check_reads(*store);
}

TEST_CASE("a stream read spanning the stored index and the unmerged tail is exact", "[index]") {
  test::temp_dir tmp;
  auto dir = tmp.path() / "journal";
  auto store = open_store(dir, false, 1000000);
  auto append = [&](const std::string& id, int n) {
    std::vector<new_event> events;
    for (int i = 0; i < n; ++i)
      events.push_back(new_event{"E", 1, id + std::to_string(i), {}, 0});
    REQUIRE(store->append(id, expected_version::any(), std::move(events)));
  };
  append("a", 3);
  append("b", 2);
  append("a", 2);
  REQUIRE(store->merge_index());
  REQUIRE(check_stored_index(*store) == 7);
  append("a", 1);
  append("b", 1);
  append("a", 4);
  // a: v1-5 stored, v6-10 in memory.
  auto a = store->read_stream("a");
  REQUIRE(a);
  REQUIRE(a->size() == 10);
  for (std::size_t i = 0; i < a->size(); ++i)
    CHECK((*a)[i].version == i + 1);
  auto span = store->read_stream("a", stream_range{4, 7, 100});
  REQUIRE(span);
  CHECK(keys_of(*span) == std::vector<event_key>{{4, 6}, {5, 7}, {6, 8}, {7, 10}});
  auto head = store->stream_head("a");
  REQUIRE(head);
  CHECK(head->head == 10);
  CHECK(head->last_position == 13);
  auto conflict = store->append("a", expected_version::exact(9), {new_event{"E", 1, "x", {}, 0}});
  REQUIRE_FALSE(conflict);
  CHECK(conflict.error().code == errc::conflict);
  check_reads(*store);

  SECTION("with the tail appended by another process, not yet merged") {
    // The child appends to the same journal and is killed after a commit: neither this
    // process's memtable nor the stored index has its events; reads scan them.
    auto r = run_index_child({"work", dir.string(), "7", "1000", "1000000"}, "commit.published:25");
    INFO(r.output);
    REQUIRE(killed(r));
    check_reads(*store);
    append("a", 2); // the writer indexes the foreign tail before its own append
    auto after = store->stream_head("a");
    REQUIRE(after);
    check_reads(*store);
    REQUIRE(store->merge_index());
    CHECK(check_stored_index(*store) == store->last_position().value());
    check_reads(*store);
  }
  SECTION("across a truncation inside the tail") {
    REQUIRE(store->truncate_stream("a", 6));
    auto rest = store->read_stream("a");
    REQUIRE(rest);
    CHECK(keys_of(*rest) == std::vector<event_key>{{7, 10}, {8, 11}, {9, 12}, {10, 13}});
    check_reads(*store);
    check_stored_index(*store);
  }
}

// Whether `streams` holds a record of `id` (raw: the API lists unmerged births too).
bool has_record(event_store& store, const std::string& id) {
  raw_tables raw{store};
  MDB_dbi streams = 0;
  REQUIRE(mdb_dbi_open(raw.txn, "streams", 0, &streams) == 0);
  MDB_val k{id.size(), const_cast<char*>(id.data())}, v;
  return mdb_get(raw.txn, streams, &k, &v) == 0;
}

TEST_CASE("a new stream's record is written by the index merge, not by its append, and the "
          "stream is listed, counted and continued before",
          "[index]") {
  test::temp_dir tmp;
  auto dir = tmp.path() / "journal";
  // No merge may run before the test's own (the suites' overrides merge at every commit).
  auto store = open_store_exact(dir, 1000000);
  REQUIRE(store->append("old", expected_version::any(), {new_event{"E", 1, "x", {}, 0}}));
  REQUIRE(store->merge_index());
  REQUIRE(store->append("new-1", expected_version::no_stream(), {new_event{"E", 1, "x", {}, 0}}));
  REQUIRE(store->append("new-2", expected_version::no_stream(), {new_event{"E", 1, "x", {}, 0}}));
  // The births wrote no record: a commit dirties no random leaf of `streams`.
  CHECK_FALSE(has_record(*store, "new-1"));
  CHECK(has_record(*store, "old"));
  auto listed = store->list_streams("", "", 100);
  REQUIRE(listed);
  REQUIRE(listed->size() == 3);
  CHECK((*listed)[0].stream_id == "new-1");
  CHECK((*listed)[0].head == 1);
  CHECK((*listed)[1].stream_id == "new-2");
  CHECK((*listed)[2].stream_id == "old");
  auto page = store->list_streams("new", "new-1", 100);
  REQUIRE(page);
  REQUIRE(page->size() == 1);
  CHECK(page->front().stream_id == "new-2");
  CHECK(store->stats()->streams == 3);
  // Its head is known without a record: a second birth conflicts, the next append continues.
  CHECK(store->append("new-1", expected_version::no_stream(), {new_event{"E", 1, "y", {}, 0}})
          .error().code == errc::conflict);
  REQUIRE(store->append("new-1", expected_version::exact(1), {new_event{"E", 1, "y", {}, 0}}));
  REQUIRE(store->merge_index());
  CHECK(has_record(*store, "new-1"));
  CHECK(has_record(*store, "new-2"));
  CHECK(store->stats()->streams == 3);
  check_reads(*store);
}

TEST_CASE("recovery after kill -9 between a commit and an index merge re-indexes the tail",
          "[index][crash]") {
  test::temp_dir tmp;
  auto dir = (tmp.path() / "journal").string();
  auto r = run_index_child({"work", dir, "42", "1000", "1000000"}, "commit.published:60");
  INFO(r.output);
  REQUIRE(killed(r));
  uint64_t events = 0;
  {
    auto store = open_store(dir, true);
    auto last = store->last_position().value();
    events = last;
    // The kill left the tail unmerged: the stored index stops short of the log.
    CHECK(check_stored_index(*store) < last);
    check_reads(*store);
  }
  {
    auto store = open_store(dir, false);
    check_reads(*store);
    REQUIRE(store->append("s-1", expected_version::any(), {new_event{"E", 1, "after", {}, 0}}));
    check_reads(*store);
  }
  auto store = open_store(dir, true);
  CHECK(check_stored_index(*store) == store->last_position().value()); // merged at close
  CHECK(store->last_position().value() > events);
}

TEST_CASE("the format-2 store of tests/data migrates and reads as before", "[index][upgrade]") {
  test::temp_dir tmp;
  auto dir = copy_fixture(tmp);
  const auto golden = golden_dump();
  REQUIRE_FALSE(golden.empty());
  {
    auto store = open_store(dir, true);
    CHECK(format_of(*store) == 2);
    CHECK(test_data::dump_store(*store) == golden);
  }
  std::vector<std::pair<uint64_t, uint64_t>> progress;
  store_options o;
  o.dir = dir;
  REQUIRE(event_store::upgrade(o, [&](uint64_t d, uint64_t t) { progress.emplace_back(d, t); }));
  REQUIRE_FALSE(progress.empty());
  CHECK(progress.back().first == progress.back().second);
  auto store = open_store(dir, false);
  CHECK(format_of(*store) == 3);
  CHECK(test_data::dump_store(*store) == golden);
  check_shards(*store, true);
  check_reads(*store);
  check_stored_index(*store);
  // And it takes appends as a format-3 store.
  REQUIRE(store->append("order-2", expected_version::any(), {new_event{"E", 1, "new", {}, 0}}));
  check_shards(*store, true);
}

TEST_CASE("a kill -9 during the upgrade leaves a store that opens as format 2 or 3, and the "
          "next open finishes it",
          "[index][upgrade][crash]") {
  const auto golden = golden_dump();
  for (std::string phase : {"upgrade.started", "upgrade.batch:1", "upgrade.batch:3"}) {
    INFO("killed at " << phase);
    test::temp_dir tmp;
    auto dir = copy_fixture(tmp);
    auto r = run_index_child({"upgrade", dir.string()}, phase, "50");
    INFO(r.output);
    REQUIRE(killed(r));
    {
      auto store = open_store(dir, true);
      auto f = format_of(*store);
      CHECK((f == 2 || f == 3));
      CHECK(test_data::dump_store(*store) == golden);
    }
    auto store = open_store(dir, false);
    CHECK(format_of(*store) == 3);
    CHECK(test_data::dump_store(*store) == golden);
    check_shards(*store, true);
    raw_tables raw{*store};
    CHECK(raw.meta_value("upgrade_through").empty());
  }
}
