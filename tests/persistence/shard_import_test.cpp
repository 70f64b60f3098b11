// A shard moving between nodes, at the store: fences refuse its appends, and its events
// copied chunk by chunk into another store (import_shard) read back as they were, with
// their versions, shard positions and metadata, under new node positions. Run against both
// stores (FOR_EACH_STORE).
#include <catch2/catch.hpp>

#include <string>
#include <tuple>
#include <vector>

#include "journal_test_support.hpp"

namespace shard_import_cases {

using namespace annal;
using namespace journal_test;

constexpr uint16_t shards = 4;

store_options sharded(const std::filesystem::path& dir) {
  store_options o;
  o.dir = dir;
  o.shard_count = shards;
  return o;
}

new_event with_metadata(std::string payload, int i) {
  auto e = make_event(std::move(payload), "T" + std::to_string(i % 3));
  e.schema_version = 1 + static_cast<uint32_t>(i % 2);
  e.metadata.command_id = "cmd-" + std::to_string(i);
  e.metadata.correlation_id = "corr-" + std::to_string(i / 4);
  e.metadata.causation_id = "cause-" + std::to_string(i);
  e.timestamp = 1'700'000'000'000'000'000 + i;
  return e;
}

// 24 streams of 5 events, appended round-robin (each shard's events interleave with the
// others'); then the first 2 versions of s-1 truncated.
void fill(event_store& s) {
  int i = 0;
  for (int v = 1; v <= 5; ++v)
    for (int k = 0; k < 24; ++k) {
      std::vector<new_event> evs;
      evs.push_back(with_metadata("e" + std::to_string(k) + "." + std::to_string(v), i++));
      REQUIRE(s.append("s-" + std::to_string(k), expected_version::exact(v - 1), std::move(evs)));
    }
  REQUIRE(s.truncate_stream("s-1", 2));
}

// Everything of an event but its node position.
using row = std::tuple<std::string, stream_version, std::string, uint32_t, timestamp_ns,
                       std::string, std::string, std::string, std::string, uint16_t, uint64_t>;

row row_of(const recorded_event& e) {
  return {e.stream_id, e.version, e.type, e.schema_version, e.timestamp, e.metadata.command_id,
          e.metadata.correlation_id, e.metadata.causation_id, e.payload, e.shard, e.shard_position};
}

std::vector<row> shard_rows(event_store& s, uint16_t shard) {
  std::vector<row> out;
  for (const auto& e : read_all(s))
    if (e.shard == shard)
      out.push_back(row_of(e));
  return out;
}

// Copies `shard` from `from` into `to` in chunks of `chunk` events, as a move does.
import_outcome copy_shard(event_store& from, event_store& to, uint16_t shard, uint64_t chunk,
                          uint64_t after = 0) {
  import_outcome total;
  global_position hint = 0;
  for (int round = 0; round < 1000; ++round) {
    shard_range r;
    r.shard = shard;
    r.after = after;
    r.max_count = chunk;
    r.from_position = hint;
    auto c = from.read_shard(r);
    REQUIRE(c);
    shard_import in;
    in.shard = shard;
    for (const auto& e : c->events.events())
      in.events.push_back(e.to_owned());
    if (c->at_end)
      in.source_head = c->head;
    auto done = to.import_shard(in);
    REQUIRE(done);
    total.imported += done->imported;
    total.skipped += done->skipped;
    total.head = done->head;
    if (!in.events.empty())
      after = in.events.back().shard_position;
    hint = c->next_hint;
    if (c->at_end)
      return total;
  }
  FAIL("the copy did not end");
  return total;
}

uint16_t shard_of(std::string_view id) {
  return shard_of_stream(id, shards);
}

// A stream of `shard` among s-0..s-23.
std::string stream_in(uint16_t shard, int skip = 0) {
  for (int k = 0; k < 24; ++k)
    if (shard_of("s-" + std::to_string(k)) == shard && skip-- == 0)
      return "s-" + std::to_string(k);
  FAIL("no stream in shard " << shard);
  return {};
}

TEST_CASE("a shard copied chunk by chunk reads back as it was, under new node positions",
          "[journal][tck][shard][import]") {
  FOR_EACH_STORE();
  test::temp_dir dir;
  auto a = open_store(sharded(dir.path() / "a"));
  auto b = open_store(sharded(dir.path() / "b"));
  fill(*a);
  // b has history of its own first: the copy lands after it.
  REQUIRE(b->append("own", expected_version::any(), one("x")));
  auto own_last = last_pos(*b);
  auto shard = shard_of("s-1");
  auto copied = copy_shard(*a, *b, shard, 3);
  auto expected = shard_rows(*a, shard);
  CHECK(copied.imported == expected.size());
  CHECK(copied.skipped == 0);
  CHECK(shard_rows(*b, shard) == expected);
  for (const auto& e : read_all(*b, own_last)) {
    CHECK(e.shard == shard);
    CHECK(e.imported);
  }
  for (const auto& e : read_all(*b, 0, own_last))
    CHECK_FALSE(e.imported);
  for (const auto& e : read_all(*a))
    CHECK_FALSE(e.imported);
  // Every stream of the shard reads the same, by stream, forward and backward.
  for (int k = 0; k < 24; ++k) {
    auto id = "s-" + std::to_string(k);
    if (shard_of(id) != shard)
      continue;
    INFO(id);
    auto from_a = read(*a, id), from_b = read(*b, id);
    REQUIRE(from_a.size() == from_b.size());
    for (std::size_t i = 0; i < from_a.size(); ++i)
      CHECK(row_of(from_a[i]) == row_of(from_b[i]));
    CHECK(head_of(*b, id).head == head_of(*a, id).head);
    auto back = b->read_stream_backward(id, 0, 2);
    REQUIRE(back);
    REQUIRE(back->size() == 2);
    CHECK(back->front().version == 5);
  }
  // The truncated stream's first versions are truncated in the copy too.
  CHECK(head_of(*b, "s-1").truncated_through == 2);
  CHECK(read(*b, "s-1").front().version == 3);
}

TEST_CASE("a resumed copy skips what it already has and ends equal",
          "[journal][tck][shard][import]") {
  FOR_EACH_STORE();
  test::temp_dir dir;
  auto a = open_store(sharded(dir.path() / "a"));
  auto b = open_store(sharded(dir.path() / "b"));
  fill(*a);
  uint16_t shard = 2;
  // A first copy that stopped after one chunk, then the whole copy from the start again.
  shard_range r;
  r.shard = shard;
  r.max_count = 4;
  auto first = a->read_shard(r);
  REQUIRE(first);
  shard_import in;
  in.shard = shard;
  for (const auto& e : first->events.events())
    in.events.push_back(e.to_owned());
  REQUIRE(b->import_shard(in));
  auto again = copy_shard(*a, *b, shard, 5);
  CHECK(again.skipped == 4);
  CHECK(shard_rows(*b, shard) == shard_rows(*a, shard));
  // One more full copy changes nothing.
  auto last = last_pos(*b);
  auto third = copy_shard(*a, *b, shard, 100);
  CHECK(third.imported == 0);
  CHECK(last_pos(*b) == last);
}

TEST_CASE("appends after a copy continue the stream's versions and the shard's positions, "
          "past events the source truncated",
          "[journal][tck][shard][import]") {
  FOR_EACH_STORE();
  test::temp_dir dir;
  auto a = open_store(sharded(dir.path() / "a"));
  auto b = open_store(sharded(dir.path() / "b"));
  fill(*a);
  auto id = stream_in(3);
  // The shard's newest event is truncated at the source: its position must not be reused.
  std::vector<new_event> one_more;
  one_more.push_back(make_event("late"));
  auto late = a->append("late-" + std::to_string(0), expected_version::any(), std::move(one_more));
  REQUIRE(late);
  std::string late_id = "late-0";
  for (int i = 1; shard_of(late_id) != 3 && i < 1000; ++i) {
    late_id = "late-" + std::to_string(i);
    REQUIRE(a->append(late_id, expected_version::any(), one("late")));
  }
  REQUIRE(shard_of(late_id) == 3);
  auto source_head = head_of(*a, late_id);
  REQUIRE(a->truncate_stream(late_id, source_head.head));
  auto copied = copy_shard(*a, *b, 3, 7);
  auto r = b->append(id, expected_version::exact(5), one("after the move"));
  REQUIRE(r);
  CHECK(r->next_expected_version == 6);
  CHECK(r->shard == 3);
  CHECK(r->last_shard_position == copied.head + 1);
  auto a_next = a->append(id, expected_version::exact(5), one("what a would have written"));
  REQUIRE(a_next);
  CHECK(a_next->last_shard_position == r->last_shard_position);
}

TEST_CASE("an import that contradicts the store's history or the shard writes nothing",
          "[journal][tck][shard][import]") {
  FOR_EACH_STORE();
  test::temp_dir dir;
  auto a = open_store(sharded(dir.path() / "a"));
  auto b = open_store(sharded(dir.path() / "b"));
  fill(*a);
  uint16_t shard = 1;
  auto id = stream_in(shard);
  shard_range r;
  r.shard = shard;
  r.max_count = 1000;
  auto c = a->read_shard(r);
  REQUIRE(c);
  std::vector<recorded_event> events;
  for (const auto& e : c->events.events())
    events.push_back(e.to_owned());
  REQUIRE(events.size() > 4);
  // b wrote three events of the stream itself: the copy's versions collide with b's (its
  // first three shard positions are taken as ones b has: the copy resumes after them).
  for (int i = 0; i < 3; ++i)
    REQUIRE(b->append(id, expected_version::any(), one("b's own")));
  auto before = last_pos(*b);
  auto refused = [&](std::vector<recorded_event> evs, errc code, uint16_t in_shard = 1) {
    shard_import in;
    in.shard = in_shard;
    in.events = std::move(evs);
    auto out = b->import_shard(in);
    REQUIRE_FALSE(out);
    CHECK(out.error().code == code);
    CHECK(last_pos(*b) == before);
  };
  SECTION("a version the stream has here") { refused(events, errc::conflict); }
  SECTION("shard positions that do not rise") {
    auto evs = events;
    std::swap(evs[0], evs[1]);
    refused(evs, errc::bad_request);
  }
  SECTION("an event of another shard") { refused(events, errc::bad_request, 0); }
  SECTION("a shard out of range") { refused(events, errc::bad_request, shards); }
  SECTION("a gap in a stream the store has") {
    std::vector<recorded_event> evs;
    for (const auto& e : events)
      if (e.stream_id == id && e.version == 3)
        evs.push_back(e);
    REQUIRE(evs.size() == 1);
    refused(evs, errc::conflict);
  }
  SECTION("a deleted stream") {
    REQUIRE(b->delete_stream(id));
    before = last_pos(*b);
    refused(events, errc::stream_deleted);
  }
  SECTION("a damaged event") {
    auto evs = events;
    evs[2].corrupt = true;
    refused(evs, errc::bad_request);
  }
}

TEST_CASE("a fenced shard refuses appends with unavailable while other shards commit, "
          "until the fence is lifted",
          "[journal][tck][shard][fence]") {
  FOR_EACH_STORE();
  test::temp_dir dir;
  auto s = open_store(sharded(dir.path() / "j"));
  auto in2 = stream_in(2), in3 = stream_in(3);
  REQUIRE(s->fence_shard(2, true));
  CHECK(s->shard_fenced(2));
  CHECK_FALSE(s->shard_fenced(3));
  auto refused = s->append(in2, expected_version::any(), one("x"));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::unavailable);
  CHECK(refused.error().message.find("shard 2") != std::string::npos);
  // A group commit keeps the other shard's append.
  write_batch batch;
  batch.appends.push_back(stream_append{in2, expected_version::any(), one("y")});
  batch.appends.push_back(stream_append{in3, expected_version::any(), one("z")});
  auto out = s->commit(batch, false);
  REQUIRE(out);
  REQUIRE(out->appends.size() == 2);
  CHECK_FALSE(out->appends[0]);
  CHECK(out->appends[0].error().code == errc::unavailable);
  CHECK(out->appends[1]);
  CHECK(head_of(*s, in2).head == 0);
  CHECK(s->fence_shard(shards, true).error().code == errc::bad_request);
  REQUIRE(s->fence_shard(2, false));
  CHECK(s->append(in2, expected_version::exact(0), one("after")));
}

TEST_CASE("a shard handed over refuses appends naming its new owner until it is taken "
          "over again, and the records say who owns it from which epoch",
          "[journal][tck][shard][fence]") {
  FOR_EACH_STORE();
  test::temp_dir dir;
  auto s = open_store(sharded(dir.path() / "j"));
  auto in1 = stream_in(1), in2 = stream_in(2);
  REQUIRE(s->append(in1, expected_version::any(), one("before")));
  CHECK(s->shard_owners()->empty());
  REQUIRE(s->hand_over_shard(1, "node-b", 2));
  auto refused = s->append(in1, expected_version::any(), one("after"));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::unavailable);
  CHECK(refused.error().message.find("node-b") != std::string::npos);
  CHECK(s->append(in2, expected_version::any(), one("other shard")));
  CHECK(s->fence_shard(1, false).error().code == errc::bad_request);
  CHECK(s->shard_fenced(1));
  REQUIRE(s->take_over_shard(1, 3));
  CHECK_FALSE(s->shard_fenced(1));
  CHECK(s->append(in1, expected_version::exact(1), one("back")));
  REQUIRE(s->hand_over_shard(2, "node-c", 2));
  auto owners = s->shard_owners();
  REQUIRE(owners);
  REQUIRE(owners->size() == 2);
  CHECK((*owners)[0].shard == 1);
  CHECK((*owners)[0].owner.empty());
  CHECK((*owners)[0].epoch == 3);
  CHECK((*owners)[1].shard == 2);
  CHECK((*owners)[1].owner == "node-c");
  CHECK((*owners)[1].epoch == 2);
  CHECK(s->hand_over_shard(shards, "x", 2).error().code == errc::bad_request);
  CHECK(s->hand_over_shard(0, "", 2).error().code == errc::bad_request);
  CHECK(s->take_over_shard(0, 0).error().code == errc::bad_request);
}

TEST_CASE("a stream record imported from the old owner tombstones a stream deleted there and "
          "truncates one truncated there, and fenced shards refuse deletions and truncations",
          "[journal][tck][shard][import]") {
  FOR_EACH_STORE();
  test::temp_dir dir;
  auto s = open_store(sharded(dir.path() / "j"));
  auto in1 = stream_in(1), other1 = stream_in(1, 1), unknown1 = stream_in(1, 2);
  for (int i = 0; i < 4; ++i) {
    REQUIRE(s->append(in1, expected_version::any(), one("e")));
    REQUIRE(s->append(other1, expected_version::any(), one("e")));
  }
  stream_info deleted;
  deleted.stream_id = in1;
  deleted.deleted = true;
  deleted.head = 6; // the old owner had two more before deleting it
  REQUIRE(s->import_stream_record(deleted));
  CHECK(s->read_stream(in1).error().code == errc::stream_deleted);
  CHECK(s->append(in1, expected_version::any(), one("x")).error().code == errc::stream_deleted);
  REQUIRE(s->import_stream_record(deleted)); // again: no change, no error
  // A stream this store never had, deleted there: a tombstone here.
  stream_info never;
  never.stream_id = unknown1;
  never.deleted = true;
  never.head = 3;
  REQUIRE(s->import_stream_record(never));
  CHECK(s->append(unknown1, expected_version::any(), one("x")).error().code == errc::stream_deleted);
  // Truncated there through 3: the same here; a record truncated less changes nothing.
  stream_info truncated;
  truncated.stream_id = other1;
  truncated.head = 4;
  truncated.truncated_through = 3;
  REQUIRE(s->import_stream_record(truncated));
  truncated.truncated_through = 1;
  REQUIRE(s->import_stream_record(truncated));
  CHECK(head_of(*s, other1).truncated_through == 3);
  CHECK(versions_of(read(*s, other1)) == V{4});
  // Fenced (or handed over): the shard's streams are not this store's to delete or truncate.
  REQUIRE(s->fence_shard(1, true));
  CHECK(s->truncate_stream(other1, 4).code() == errc::unavailable);
  CHECK(s->delete_stream(other1).code() == errc::unavailable);
  REQUIRE(s->fence_shard(1, false));
  CHECK(s->truncate_stream(other1, 4));
}

TEST_CASE("a hand-over outlives the store's reopening", "[journal][shard][fence]") {
  test::temp_dir dir;
  auto in1 = stream_in(1);
  {
    auto s = event_store::open(sharded(dir.path() / "j"));
    REQUIRE(s);
    REQUIRE((*s)->hand_over_shard(1, "node-b", 2));
  }
  auto s = event_store::open(sharded(dir.path() / "j"));
  REQUIRE(s);
  auto refused = (*s)->append(in1, expected_version::any(), one("after"));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("node-b") != std::string::npos);
  auto owners = (*s)->shard_owners();
  REQUIRE(owners);
  REQUIRE(owners->size() == 1);
  CHECK((*owners)[0].owner == "node-b");
  // Read-only openers (the CLI) see the records too.
  auto o = sharded(dir.path() / "j");
  o.read_only = true;
  s->reset();
  auto ro = event_store::open(o);
  REQUIRE(ro);
  CHECK((*ro)->shard_owners()->size() == 1);
}

TEST_CASE("an imported shard reads the same after the store is reopened",
          "[journal][shard][import]") {
  // LMDB only: the unmerged index of the import is rebuilt from the events at open.
  test::temp_dir dir;
  store_options o = sharded(dir.path() / "b");
  o.index_merge_runs = 7; // merges in the middle of the copy
  o.index_merge_runs_per_leaf = 0;
  {
    auto a = event_store::open(sharded(dir.path() / "a"));
    REQUIRE(a);
    fill(**a);
    auto b = event_store::open(o);
    REQUIRE(b);
    copy_shard(**a, **b, 0, 5);
  }
  auto a = event_store::open(sharded(dir.path() / "a"));
  auto b = event_store::open(o);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(shard_rows(**b, 0) == shard_rows(**a, 0));
  for (const auto& e : read_all(**b))
    CHECK(e.imported);
  for (int skip = 0; skip < 3; ++skip) {
    auto id = stream_in(0, skip);
    auto from_a = read(**a, id), from_b = read(**b, id);
    REQUIRE(from_a.size() == from_b.size());
    for (std::size_t i = 0; i < from_a.size(); ++i)
      CHECK(row_of(from_a[i]) == row_of(from_b[i]));
  }
}

} // namespace shard_import_cases
