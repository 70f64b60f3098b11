// The journal's index of deleted and truncated streams by shard (list_trimmed_streams):
// what a shard move copies besides the shard's events, read without listing every stream.
// The index must always equal a filter of the stream records (the contract's default,
// called explicitly as the reference), after any mix of deletions, truncations, imports and
// reopenings, and a journal written before the index gets it at its next writable open.
#include <catch2/catch.hpp>
#include <lmdb.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "journal_test_support.hpp"

namespace trimmed_streams_cases {

using namespace annal;
using namespace journal_test;

constexpr uint16_t shards = 8;

store_options sharded(const std::filesystem::path& dir, std::size_t merge_runs = 0) {
  store_options o;
  o.dir = dir;
  o.shard_count = shards;
  if (merge_runs > 0) {
    o.index_merge_runs = merge_runs;
    o.index_merge_runs_per_leaf = 0;
  }
  return o;
}

using summary = std::vector<std::tuple<std::string, bool, stream_version, stream_version>>;

summary summarize(const std::vector<stream_info>& streams) {
  summary out;
  for (const auto& s : streams)
    out.emplace_back(s.stream_id, s.deleted, s.head, s.truncated_through);
  return out;
}

// Every trimmed stream of `shard`, read in pages of `page` through the store's index.
summary indexed(event_store& s, uint16_t shard, uint64_t page = 3) {
  std::vector<stream_info> all;
  std::string after;
  for (int guard = 0; guard < 100000; ++guard) {
    auto r = s.list_trimmed_streams(shards, shard, after, page);
    REQUIRE(r);
    all.insert(all.end(), r->begin(), r->end());
    if (r->size() < page)
      return summarize(all);
    after = r->back().stream_id;
  }
  FAIL("the pages did not end");
  return {};
}

// The same from a filter of every stream record (the contract's default).
summary scanned(event_store& s, uint16_t shard) {
  auto r = s.event_store::list_trimmed_streams(shards, shard, "", 1u << 30);
  REQUIRE(r);
  return summarize(*r);
}

void check_index_equals_scan(event_store& s) {
  for (uint16_t shard = 0; shard < shards; ++shard) {
    INFO("shard " << shard);
    CHECK(indexed(s, shard) == scanned(s, shard));
  }
}

std::string stream_name(int k) {
  return "st-" + std::to_string(k);
}

TEST_CASE("a shard's deleted and truncated streams are listed in id order with their heads, "
          "and no other stream is",
          "[journal][tck][shard][trimmed]") {
  FOR_EACH_STORE();
  test::temp_dir dir;
  auto s = open_store(sharded(dir.path() / "j"));
  for (int k = 0; k < 40; ++k)
    for (int v = 0; v < 3; ++v)
      REQUIRE(s->append(stream_name(k), expected_version::any(), one("e")));
  std::map<uint16_t, summary> expected;
  for (int k = 0; k < 40; k += 3) {
    auto id = stream_name(k);
    if (k % 2 == 0) {
      REQUIRE(s->delete_stream(id));
      expected[shard_of_stream(id, shards)].emplace_back(id, true, 3, 3);
    } else {
      REQUIRE(s->truncate_stream(id, 2));
      expected[shard_of_stream(id, shards)].emplace_back(id, false, 3, 2);
    }
  }
  for (auto& [shard, rows] : expected)
    std::sort(rows.begin(), rows.end());
  for (uint16_t shard = 0; shard < shards; ++shard) {
    INFO("shard " << shard);
    CHECK(indexed(*s, shard, 2) == expected[shard]);
    CHECK(indexed(*s, shard, 1000) == expected[shard]);
  }
  CHECK(s->list_trimmed_streams(shards, shards, "", 10).error().code == errc::bad_request);
}

TEST_CASE("the index of trimmed streams equals a scan of the stream records after random "
          "deletions, truncations, imports and reopenings",
          "[journal][shard][trimmed][property]") {
  // LMDB only: the index is the LMDB store's; reopenings rebuild its memtable.
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    INFO("seed " << seed);
    std::mt19937 rng{seed};
    test::temp_dir dir;
    auto o = sharded(dir.path() / "j", 1 + seed % 3);
    auto opened = event_store::open(o);
    REQUIRE(opened);
    auto s = std::move(*opened);
    for (int step = 0; step < 400; ++step) {
      auto id = stream_name(static_cast<int>(rng() % 60));
      switch (rng() % 10) {
        case 0:
          (void)s->delete_stream(id); // not_found or stream_deleted are fine: nothing written
          break;
        case 1:
          (void)s->truncate_stream(id, rng() % 5);
          break;
        case 2: {
          stream_info record; // a record copied from a shard's old owner
          record.stream_id = "im-" + std::to_string(rng() % 20);
          record.deleted = rng() % 2 == 0;
          record.head = 1 + rng() % 6;
          record.truncated_through = record.deleted ? record.head : rng() % record.head;
          REQUIRE(s->import_stream_record(record));
          break;
        }
        case 3:
          if (rng() % 4 == 0) {
            s.reset();
            auto again = event_store::open(o);
            REQUIRE(again);
            s = std::move(*again);
          }
          break;
        default:
          (void)s->append(id, expected_version::any(), one("e"));
      }
    }
    check_index_equals_scan(*s);
  }
}

TEST_CASE("a shard imported with its first versions truncated at the source lists them as "
          "truncated here",
          "[journal][shard][trimmed][import]") {
  FOR_EACH_STORE();
  test::temp_dir dir;
  auto a = open_store(sharded(dir.path() / "a"));
  auto b = open_store(sharded(dir.path() / "b"));
  auto id = stream_name(7);
  auto shard = shard_of_stream(id, shards);
  for (int v = 0; v < 5; ++v)
    REQUIRE(a->append(id, expected_version::any(), one("e")));
  REQUIRE(a->truncate_stream(id, 2));
  shard_range range;
  range.shard = shard;
  auto chunk = a->read_shard(range);
  REQUIRE(chunk);
  REQUIRE(chunk->at_end);
  shard_import in;
  in.shard = shard;
  for (const auto& e : chunk->events.events())
    in.events.push_back(e.to_owned());
  in.source_head = chunk->head;
  REQUIRE(b->import_shard(in));
  CHECK(indexed(*b, shard) == summary{{id, false, 5, 2}});
  CHECK(indexed(*b, shard) == scanned(*b, shard));
}

// Takes the index away as a journal written before it would be: no table, no mark.
// Entries of the table `trimmed_streams` (-1: no such table).
long index_entries(event_store& s) {
  auto* env = static_cast<MDB_env*>(s.native_handle());
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) == 0);
  MDB_dbi trimmed = 0;
  long entries = -1;
  if (mdb_dbi_open(txn, "trimmed_streams", 0, &trimmed) == 0) {
    MDB_stat st;
    REQUIRE(mdb_stat(txn, trimmed, &st) == 0);
    entries = static_cast<long>(st.ms_entries);
  }
  mdb_txn_abort(txn);
  return entries;
}

void forget_index(event_store& s) {
  auto* env = static_cast<MDB_env*>(s.native_handle());
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  MDB_dbi trimmed = 0, meta = 0;
  REQUIRE(mdb_dbi_open(txn, "trimmed_streams", 0, &trimmed) == 0);
  REQUIRE(mdb_drop(txn, trimmed, 1) == 0);
  REQUIRE(mdb_dbi_open(txn, "meta", 0, &meta) == 0);
  std::string key = "trimmed_indexed";
  MDB_val k{key.size(), key.data()};
  REQUIRE(mdb_del(txn, meta, &k, nullptr) == 0);
  REQUIRE(mdb_txn_commit(txn) == 0);
}

TEST_CASE("a journal written before the index of trimmed streams lists them from a scan when "
          "read-only and gets the index at its next writable open",
          "[journal][shard][trimmed][upgrade]") {
  test::temp_dir dir;
  auto o = sharded(dir.path() / "j");
  summary before[shards];
  {
    auto s = event_store::open(o);
    REQUIRE(s);
    for (int k = 0; k < 30; ++k)
      REQUIRE((*s)->append(stream_name(k), expected_version::any(), one("e")));
    for (int k = 0; k < 30; k += 4) {
      auto id = stream_name(k);
      auto done = k % 8 == 0 ? (*s)->delete_stream(id) : (*s)->truncate_stream(id, 1);
      REQUIRE(done);
    }
    for (uint16_t shard = 0; shard < shards; ++shard)
      before[shard] = indexed(**s, shard);
    CHECK(index_entries(**s) == 8);
    forget_index(**s);
    CHECK(index_entries(**s) == -1);
  }
  auto ro = o;
  ro.read_only = true;
  {
    auto s = event_store::open(ro);
    REQUIRE(s);
    for (uint16_t shard = 0; shard < shards; ++shard)
      CHECK(indexed(**s, shard) == before[shard]);
  }
  auto s = event_store::open(o);
  REQUIRE(s);
  CHECK(index_entries(**s) == 8);
  REQUIRE((*s)->truncate_stream(stream_name(1), 1)); // and later changes are indexed too
  auto shard1 = shard_of_stream(stream_name(1), shards);
  before[shard1].emplace_back(stream_name(1), false, 1, 1);
  std::sort(before[shard1].begin(), before[shard1].end());
  for (uint16_t shard = 0; shard < shards; ++shard)
    CHECK(indexed(**s, shard) == before[shard]);
  check_index_equals_scan(**s);
}

} // namespace trimmed_streams_cases
