// The LMDB event store's own cases, beyond the contract every store shares
// (journal_tck_test.cpp): reopening a folder, map growth and its cap, sync flags, backups
// and read-only opens.
#include <catch2/catch.hpp>
#include <lmdb.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "journal_test_support.hpp"
#include "lmdb_env.hpp"

// The cases live in a namespace of their own: with unity builds several test files share
// one translation unit, and the helpers must not leak into the others.
namespace lmdb_journal_cases {

using namespace annal;
using namespace journal_test;

TEST_CASE("positions of deleted newest events are never handed out again, across reopens",
          "[journal]") {
  current_kind = store_kind::lmdb; // (the suite may have left it at memory)
  test::temp_dir dir;
  {
    auto s = open_store(dir.path());
    write_fixture_events(*s, pid);
    REQUIRE(s->append("q-1", expected_version::no_stream(), one("q1")));
    REQUIRE(s->delete_stream("q-1"));
    REQUIRE(s->truncate_stream(pid, 5));
  }
  auto s = open_store(dir.path());
  CHECK(last_pos(*s) == 6);
  auto r = s->append("q-2", expected_version::no_stream(), one("q2"));
  REQUIRE(r);
  CHECK(r->first_position == 7);
}

TEST_CASE("a store cannot be opened where a file stands", "[journal]") {
  current_kind = store_kind::lmdb; // (the suite may have left it at memory)
  test::temp_dir dir;
  auto file = dir.path() / "plain-file";
  { std::ofstream{file} << "not a store"; }
  store_options o;
  o.dir = file;
  auto r = event_store::open(o);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::io_error);
}

TEST_CASE("appends after reopening the store continue the numbering and positions",
          "[journal][tck]") {
  current_kind = store_kind::lmdb; // (the suite may have left it at memory)
  test::temp_dir dir;
  {
    auto s = open_store(dir.path());
    write_fixture_events(*s, pid);
    REQUIRE(s->append("q-1", expected_version::no_stream(), one("q1")));
  }
  auto s = open_store(dir.path());
  CHECK(last_pos(*s) == 6);
  CHECK(head_of(*s, pid).head == 5);
  CHECK(versions_of(read(*s, pid)) == V{1, 2, 3, 4, 5});
  auto r = s->append(pid, expected_version::exact(5), one("e6"));
  REQUIRE(r);
  CHECK(r->next_expected_version == 6);
  CHECK(r->first_position == 7);
  CHECK(r->last_position == 7);
  auto q = s->append("q-1", expected_version::exact(1), one("q2"));
  REQUIRE(q);
  CHECK(q->next_expected_version == 2);
  CHECK(q->first_position == 8);
  CHECK(positions_of(read_all(*s)) == std::vector<global_position>{1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(payloads_of(read(*s, pid)) == std::vector<std::string>{"e1", "e2", "e3", "e4", "e5", "e6"});
}

TEST_CASE("the map grows from 1 MiB as the journal fills", "[journal][tck][storage]") {
  current_kind = store_kind::lmdb; // (the suite may have left it at memory)
  test::temp_dir dir;
  store_options o;
  o.dir = dir.path();
  o.initial_map_size = std::size_t{1} << 20;
  auto s = open_store(o);
  constexpr int batches = 100;
  constexpr int per_batch = 20;
  constexpr std::size_t payload_size = 10'000; // 100 * 20 * 10 kB = 20 MB
  for (int b = 0; b < batches; ++b) {
    std::vector<new_event> evs;
    for (int i = 0; i < per_batch; ++i) {
      std::string payload(payload_size, static_cast<char>('a' + (b + i) % 26));
      payload.replace(0, 8, std::to_string(10'000'000 + b * per_batch + i));
      evs.push_back(make_event(std::move(payload)));
    }
    auto r = s->append("big", expected_version::exact(stream_version(b) * per_batch),
                       std::move(evs));
    INFO("batch " << b);
    REQUIRE(r);
  }
  auto st = s->stats();
  REQUIRE(st);
  CHECK(st->events == batches * per_batch);
  CHECK(st->map_size > (std::size_t{16} << 20));
  CHECK(st->file_size > (std::size_t{16} << 20));
  // Spot checks: events at both ends and in the middle read back intact.
  for (stream_version v : {stream_version{1}, stream_version{1000}, stream_version{2000}}) {
    auto evs = read(*s, "big", range(v, v));
    REQUIRE(evs.size() == 1);
    CHECK(evs[0].payload.size() == payload_size);
    CHECK(evs[0].payload.substr(0, 8) == std::to_string(10'000'000 + v - 1));
    CHECK_FALSE(evs[0].corrupt);
  }
  // The grown store reopens with the small initial size and keeps working.
  s.reset();
  s = open_store(o);
  auto tail = read(*s, "big", range(2000, 2000));
  REQUIRE(tail.size() == 1);
  CHECK(tail[0].payload.substr(0, 8) == std::to_string(10'000'000 + 1999));
  auto more = s->append("big", expected_version::exact(2000), one(std::string(payload_size, 'z')));
  REQUIRE(more);
  CHECK(more->first_position == 2001);
}

TEST_CASE("appends beyond the map cap fail with storage_full and write nothing",
          "[journal][tck][storage]") {
  current_kind = store_kind::lmdb; // (the suite may have left it at memory)
  test::temp_dir dir;
  store_options o;
  o.dir = dir.path();
  o.initial_map_size = std::size_t{1} << 20;
  o.max_map_size = std::size_t{4} << 20;
  auto s = open_store(o);
  constexpr std::size_t payload_size = 100'000;
  auto payload_for = [](int i) {
    std::string p(payload_size, static_cast<char>('A' + i % 26));
    p.replace(0, 4, std::to_string(1000 + i));
    return p;
  };
  int written = 0;
  result<append_result> last_failure = make_error(errc::io_error, "never failed");
  for (int i = 0; i < 100; ++i) {
    auto r = s->append("fill", expected_version::exact(stream_version(i)), one(payload_for(i)));
    if (!r) {
      last_failure = std::move(r);
      break;
    }
    ++written;
  }
  REQUIRE_FALSE(last_failure);
  CHECK(last_failure.error().code == errc::storage_full);
  CHECK(written > 10); // the 1 MiB initial map grew towards the 4 MiB cap
  CHECK(std::size_t(written) * payload_size <= o.max_map_size);
  // The failed append wrote nothing.
  CHECK(last_pos(*s) == global_position(written));
  CHECK(head_of(*s, "fill").head == stream_version(written));
  // Every earlier event reads back intact.
  auto evs = read(*s, "fill");
  REQUIRE(evs.size() == std::size_t(written));
  for (int i = 0; i < written; ++i) {
    CHECK(evs[i].version == stream_version(i + 1));
    CHECK(evs[i].payload == payload_for(i));
    CHECK_FALSE(evs[i].corrupt);
  }
  // The store keeps serving: reads work and a big append fails the same way.
  CHECK(read_all(*s).size() == std::size_t(written));
  auto again = s->append("fill", expected_version::exact(written), one(payload_for(written)));
  REQUIRE_FALSE(again);
  CHECK(again.error().code == errc::storage_full);
  CHECK(last_pos(*s) == global_position(written));
  // Small appends fill what is left, then fail the same clean way.
  stream_version small_written = 0;
  result<append_result> small_failure = make_error(errc::io_error, "never failed");
  for (int i = 0; i < 20000; ++i) {
    auto r = s->append("small", expected_version::exact(small_written), one("tiny"));
    if (!r) {
      small_failure = std::move(r);
      break;
    }
    ++small_written;
  }
  REQUIRE_FALSE(small_failure);
  CHECK(small_failure.error().code == errc::storage_full);
  CHECK(last_pos(*s) == global_position(written) + small_written);
  CHECK(head_of(*s, "small").head == small_written);
  CHECK(head_of(*s, "fill").head == stream_version(written));
  CHECK(read(*s, "small").size() == small_written);
  CHECK(read(*s, "fill").size() == std::size_t(written));
  auto st = s->stats();
  REQUIRE(st);
  CHECK(st->map_size <= o.max_map_size);
}

TEST_CASE("a group commit that hits the map cap writes nothing and keeps the batch",
          "[journal][storage]") {
  current_kind = store_kind::lmdb; // (the suite may have left it at memory)
  test::temp_dir dir;
  store_options o;
  o.dir = dir.path();
  o.initial_map_size = std::size_t{1} << 20;
  o.max_map_size = std::size_t{2} << 20;
  auto s = open_store(o);
  REQUIRE(s->append("x", expected_version::no_stream(), one("first")));
  write_batch batch;
  batch.appends.push_back(stream_append{"small", expected_version::no_stream(), one("tiny")});
  std::vector<new_event> big;
  for (int i = 0; i < 30; ++i)
    big.push_back(make_event(std::string(100'000, 'b')));
  batch.appends.push_back(stream_append{"big", expected_version::no_stream(), std::move(big)});
  auto out = s->commit(batch, true);
  REQUIRE_FALSE(out);
  CHECK(out.error().code == errc::storage_full);
  CHECK(last_pos(*s) == 1);
  CHECK(head_of(*s, "small").head == 0);
  CHECK(head_of(*s, "big").head == 0);
  // Nothing was moved out of the batch: it can be retried or split.
  REQUIRE(batch.appends.size() == 2);
  REQUIRE(batch.appends[0].events.size() == 1);
  CHECK(batch.appends[0].events[0].payload == "tiny");
  CHECK(batch.appends[1].events.size() == 30);
  // The atomic multi-stream append fails the same way.
  auto atomic = s->append(std::vector<stream_append>{batch.appends[0], batch.appends[1]});
  REQUIRE_FALSE(atomic);
  CHECK(atomic.error().code == errc::storage_full);
  CHECK(last_pos(*s) == 1);
  // The small part alone still fits.
  auto small = s->append("small", expected_version::no_stream(), one("tiny"));
  REQUIRE(small);
  CHECK(small->first_position == 2);
}

TEST_CASE("the map cap holds even when the initial map size is larger",
          "[journal][storage]") {
  current_kind = store_kind::lmdb; // (the suite may have left it at memory)
  test::temp_dir dir;
  store_options o;
  o.dir = dir.path();
  o.max_map_size = std::size_t{4} << 20; // initial_map_size stays at its 64 MiB default
  auto opened = event_store::open(o);
  if (!opened) {
    // Refusing inconsistent options is fine too.
    CHECK(opened.error().code == errc::bad_request);
    return;
  }
  auto& s = **opened;
  bool hit_cap = false;
  int written = 0;
  for (; written < 80; ++written) { // up to 8 MB, twice the cap
    auto r = s.append("fill", expected_version::any(), one(std::string(100'000, 'f')));
    if (!r) {
      CHECK(r.error().code == errc::storage_full);
      hit_cap = true;
      break;
    }
  }
  INFO("appended " << written << " events of 100 kB under a 4 MiB cap");
  CHECK(hit_cap);
  CHECK(std::size_t(written) * 100'000 <= o.max_map_size);
}

TEST_CASE("a no_sync store keeps flushed appends across a reopen", "[journal][tck]") {
  current_kind = store_kind::lmdb; // (the suite may have left it at memory)
  test::temp_dir dir;
  {
    store_options o;
    o.dir = dir.path();
    o.mode = durability::no_sync;
    auto s = open_store(o);
    CHECK(s->options().mode == durability::no_sync);
    write_fixture_events(*s, pid);
    REQUIRE(s->flush());
  }
  auto s = open_store(dir.path());
  CHECK(payloads_of(read(*s, pid)) == std::vector<std::string>{"e1", "e2", "e3", "e4", "e5"});
  CHECK(last_pos(*s) == 5);
  CHECK(std::string{to_string(durability::no_sync)} == "no_sync");
  CHECK(std::string{to_string(durability::durable)} == "durable");
}

TEST_CASE("a store is durable by default: LMDB syncs the data and the meta page of every commit",
          "[journal][durability]") {
  current_kind = store_kind::lmdb; // (the suite may have left it at memory)
  CHECK(store_options{}.mode == durability::durable);
  auto flags_of = [](event_store& s) {
    unsigned flags = 0;
    REQUIRE(mdb_env_get_flags(static_cast<MDB_env*>(s.native_handle()), &flags) == 0);
    return flags;
  };
  test::temp_dir durable_dir, no_sync_dir;
  auto durable = open_store(durable_dir.path());
  CHECK((flags_of(*durable) & (MDB_NOSYNC | MDB_NOMETASYNC | MDB_MAPASYNC)) == 0);
  store_options o;
  o.dir = no_sync_dir.path();
  o.mode = durability::no_sync;
  auto relaxed = open_store(o);
  CHECK((flags_of(*relaxed) & MDB_NOSYNC) != 0);
}

TEST_CASE("a read-only store serves reads and refuses every write", "[journal]") {
  current_kind = store_kind::lmdb; // (the suite may have left it at memory)
  test::temp_dir dir;
  {
    auto s = open_store(dir.path());
    write_fixture_events(*s, pid);
  }
  store_options o;
  o.dir = dir.path();
  o.read_only = true;
  auto s = open_store(o);
  CHECK(versions_of(read(*s, pid)) == V{1, 2, 3, 4, 5});
  CHECK(last_pos(*s) == 5);
  CHECK(s->append(pid, expected_version::any(), one("x")).code() == errc::bad_request);
  CHECK(s->truncate_stream(pid, 2).code() == errc::bad_request);
  CHECK(s->delete_stream(pid).code() == errc::bad_request);
  snapshot_record snap;
  snap.stream_id = std::string{pid};
  snap.version = 1;
  snap.type = "S";
  CHECK(s->save_snapshot(snap).code() == errc::bad_request);
  write_batch batch;
  batch.appends.push_back(stream_append{std::string{pid}, expected_version::any(), one("x")});
  CHECK(s->commit(batch).code() == errc::bad_request);
  CHECK(versions_of(read(*s, pid)) == V{1, 2, 3, 4, 5});
  // A folder without a store cannot be opened read-only.
  store_options missing;
  missing.dir = dir.path() / "nothing-here";
  missing.read_only = true;
  CHECK_FALSE(event_store::open(missing));
}

// Grows the map of the journal in `dir` from another process (started by fork, so the
// caller's open handle is not shared) far past its size, and waits for it.
void grow_map_from_another_process(const std::filesystem::path& dir) {
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    detail::after_env_open_for_tests = nullptr; // (inherited: the child's open must not recurse)
    store_options o;
    o.dir = dir;
    o.mode = durability::no_sync;
    auto store = event_store::open(o);
    if (!store)
      ::_exit(2);
    for (int i = 0; i < 1500; ++i) {
      new_event e;
      e.type = "Filler";
      e.payload = std::string(4000, 'f');
      std::vector<new_event> batch{e};
      if (!(*store)->append("filler-1", expected_version::any(), std::move(batch)))
        ::_exit(1);
    }
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
}

std::filesystem::path growing_dir;

TEST_CASE("a store opened while another process grows its map adopts the new size",
          "[journal][storage]") {
  // Seen in CI: `annal backup` beside a busy writer failed with MDB_MAP_RESIZED at "begin
  // open transaction". The hook makes the window deterministic.
  current_kind = store_kind::lmdb; // (the suite may have left it at memory)
  test::temp_dir dir;
  {
    store_options o;
    o.dir = dir.path();
    o.initial_map_size = std::size_t{1} << 20;
    auto s = open_store(o);
    REQUIRE(s->append("first-1", expected_version::no_stream(), one("a")));
  }
  growing_dir = dir.path();
  detail::after_env_open_for_tests = [] { grow_map_from_another_process(growing_dir); };
  store_options ro;
  ro.dir = dir.path();
  ro.read_only = true;
  auto reader = event_store::open(ro);
  detail::after_env_open_for_tests = nullptr;
  REQUIRE(reader);
  auto head = (*reader)->last_position();
  REQUIRE(head);
  CHECK(*head == 1 + 1500);
}

TEST_CASE_METHOD(journal_fixture, "a backup opens as a store holding the same events",
                 "[journal][tck]") {
  current_kind = store_kind::lmdb; // (the suite may have left it at memory)
  REQUIRE(s().append("q-1", expected_version::no_stream(), one("q1")));
  snapshot_record snap;
  snap.stream_id = std::string{pid};
  snap.version = 5;
  snap.type = "S";
  snap.state = "five";
  REQUIRE(s().save_snapshot(snap));
  auto dest = dir.path() / "backup";
  REQUIRE(s().backup(dest));
  // The source keeps working after the backup.
  REQUIRE(s().append("q-1", expected_version::exact(1), one("q2")));

  auto b = open_store(dest);
  auto original = read_all(s(), 0, 6);
  auto copy = read_all(*b);
  REQUIRE(copy.size() == 6);
  REQUIRE(original.size() == 6);
  for (std::size_t i = 0; i < copy.size(); ++i) {
    CHECK(copy[i].stream_id == original[i].stream_id);
    CHECK(copy[i].version == original[i].version);
    CHECK(copy[i].position == original[i].position);
    CHECK(copy[i].payload == original[i].payload);
    CHECK(copy[i].timestamp == original[i].timestamp);
    CHECK_FALSE(copy[i].corrupt);
  }
  CHECK(last_pos(*b) == 6);
  CHECK(head_of(*b, pid).head == 5);
  auto loaded = b->load_snapshot(pid);
  REQUIRE(loaded);
  REQUIRE(loaded->has_value());
  CHECK((*loaded)->state == "five");
  // The backup continues numbering on its own.
  auto r = b->append("q-1", expected_version::exact(1), one("q2-copy"));
  REQUIRE(r);
  CHECK(r->first_position == 7);
  // A backup into a non-empty folder is refused.
  auto refused = s().backup(dest);
  REQUIRE_FALSE(refused);
  CHECK(refused.code() == errc::bad_request);
}

} // namespace lmdb_journal_cases
