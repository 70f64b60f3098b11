// Journal TCK: the behaviour every Annal event journal must show, modelled on the Akka
// persistence plugin TCK (JournalSpec), run against every implementation of the
// event_store contract (LMDB and in-memory: FOR_EACH_STORE). Cases only the LMDB store can
// show (reopening, map growth, sync flags, backups, read-only files) are in
// lmdb_journal_test.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "journal_test_support.hpp"

// The cases live in a namespace of their own: with unity builds several test files share
// one translation unit, and the helpers must not leak into the others.
namespace journal_tck_cases {

using namespace annal;
using namespace journal_test;
using Catch::Matchers::Contains;

// -- replay ranges (JournalSpec "replay") --------------------------------------------------

TEST_CASE_METHOD(journal_fixture, "a stream replays all its events in order",
                 "[journal][tck]") {
  FOR_EACH_STORE();
  auto evs = read(s(), pid);
  CHECK(versions_of(evs) == V{1, 2, 3, 4, 5});
  CHECK(positions_of(evs) == std::vector<global_position>{1, 2, 3, 4, 5});
  CHECK(payloads_of(evs) == std::vector<std::string>{"e1", "e2", "e3", "e4", "e5"});
  for (const auto& e : evs) {
    CHECK(e.stream_id == pid);
    CHECK(e.type == "T");
    CHECK_FALSE(e.corrupt);
  }
}

TEST_CASE_METHOD(journal_fixture, "a stream replays from a lower bound", "[journal][tck]") {
  FOR_EACH_STORE();
  CHECK(versions_of(read(s(), pid, range(3, 100))) == V{3, 4, 5});
  stream_range from_only;
  from_only.from = 2;
  CHECK(versions_of(read(s(), pid, from_only)) == V{2, 3, 4, 5});
}

TEST_CASE_METHOD(journal_fixture, "a stream replays to an upper bound", "[journal][tck]") {
  FOR_EACH_STORE();
  stream_range to_only;
  to_only.to = 3;
  CHECK(versions_of(read(s(), pid, to_only)) == V{1, 2, 3});
}

TEST_CASE_METHOD(journal_fixture, "a stream replays at most max_count events",
                 "[journal][tck]") {
  FOR_EACH_STORE();
  stream_range r;
  r.max_count = 3;
  CHECK(versions_of(read(s(), pid, r)) == V{1, 2, 3});
}

TEST_CASE_METHOD(journal_fixture, "a stream replays between a lower and an upper bound",
                 "[journal][tck]") {
  FOR_EACH_STORE();
  CHECK(versions_of(read(s(), pid, range(2, 4))) == V{2, 3, 4});
}

TEST_CASE_METHOD(journal_fixture,
                 "a stream replays between a lower and an upper bound with a max count",
                 "[journal][tck]") {
  FOR_EACH_STORE();
  CHECK(versions_of(read(s(), pid, range(2, 5, 2))) == V{2, 3});
}

TEST_CASE_METHOD(journal_fixture, "a stream replays a single event when lower equals upper",
                 "[journal][tck]") {
  FOR_EACH_STORE();
  auto evs = read(s(), pid, range(3, 3));
  REQUIRE(versions_of(evs) == V{3});
  CHECK(evs[0].payload == "e3");
}

TEST_CASE_METHOD(journal_fixture, "a stream replays a single event when max_count is 1",
                 "[journal][tck]") {
  FOR_EACH_STORE();
  CHECK(versions_of(read(s(), pid, range(2, 5, 1))) == V{2});
  stream_range r;
  r.max_count = 1;
  CHECK(versions_of(read(s(), pid, r)) == V{1});
}

TEST_CASE_METHOD(journal_fixture, "a stream replays nothing when max_count is 0",
                 "[journal][tck]") {
  FOR_EACH_STORE();
  CHECK(read(s(), pid, range(1, 5, 0)).empty());
  uint64_t visited = 0;
  auto n = s().read_stream(pid, range(1, 5, 0), [&](const event_view&) {
    ++visited;
    return true;
  });
  REQUIRE(n);
  CHECK(*n == 0);
  CHECK(visited == 0);
}

TEST_CASE_METHOD(journal_fixture, "a stream replays nothing when lower exceeds upper",
                 "[journal][tck]") {
  FOR_EACH_STORE();
  CHECK(read(s(), pid, range(4, 3)).empty());
  CHECK(read(s(), pid, range(6, 100)).empty());
}

TEST_CASE_METHOD(journal_fixture, "the zero-copy stream read visits the same events and stops early",
                 "[journal]") {
  FOR_EACH_STORE();
  std::vector<stream_version> seen;
  std::vector<std::string> payloads;
  auto n = s().read_stream(pid, range(2, 5), [&](const event_view& e) {
    seen.push_back(e.version);
    payloads.emplace_back(e.payload);
    return e.version < 3; // stop after version 3
  });
  REQUIRE(n);
  CHECK(*n == 2);
  CHECK(seen == V{2, 3});
  CHECK(payloads == std::vector<std::string>{"e2", "e3"});
}

// -- heads ---------------------------------------------------------------------------------

TEST_CASE_METHOD(journal_fixture, "an unknown stream has highest version 0", "[journal][tck]") {
  FOR_EACH_STORE();
  auto h = head_of(s(), "unknown-1");
  CHECK(h.head == 0);
  CHECK(h.last_position == 0);
  CHECK(h.truncated_through == 0);
  CHECK_FALSE(h.deleted);
  CHECK(read(s(), "unknown-1").empty());
  auto back = s().read_stream_backward("unknown-1", 0, 10);
  REQUIRE(back);
  CHECK(back->empty());
}

TEST_CASE_METHOD(journal_fixture, "the highest version is read from the head without replaying",
                 "[journal][tck]") {
  FOR_EACH_STORE();
  auto h = head_of(s(), pid);
  CHECK(h.stream_id == pid);
  CHECK(h.head == 5);
  CHECK(h.last_position == 5);
  CHECK(h.truncated_through == 0);
  CHECK_FALSE(h.deleted);
  // Another stream moves the global log but not this stream's head.
  REQUIRE(s().append("other", expected_version::any(), one("x")));
  auto h2 = head_of(s(), pid);
  CHECK(h2.head == 5);
  CHECK(h2.last_position == 5);
  CHECK(head_of(s(), "other").last_position == 6);
}

TEST_CASE_METHOD(journal_fixture, "a stream read with its head gives the head before the first event",
                 "[journal][tck]") {
  FOR_EACH_STORE();
  REQUIRE(s().truncate_stream(pid, 2));
  stream_info head;
  std::vector<stream_version> seen;
  auto n = s().read_stream_and_head(pid, range(1, 100), head, [&](const event_view& e) {
    CHECK(head.head == 5); // set before the first visit
    seen.push_back(e.version);
    return true;
  });
  REQUIRE(n);
  CHECK(seen == V{3, 4, 5});
  CHECK(head.stream_id == pid);
  CHECK(head.head == 5);
  CHECK(head.last_position == 5);
  CHECK(head.truncated_through == 2);
  stream_info unknown;
  unknown.head = 99;
  auto none = s().read_stream_and_head("unknown-2", range(1, 100), unknown,
                                       [](const event_view&) { return true; });
  REQUIRE(none);
  CHECK(*none == 0);
  CHECK(unknown.head == 0);
  REQUIRE(s().delete_stream(pid));
  stream_info gone;
  auto refused = s().read_stream_and_head(pid, range(1, 100), gone,
                                          [](const event_view&) { return true; });
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::stream_deleted);
  CHECK(gone.deleted);
}

// -- truncation ----------------------------------------------------------------------------

TEST_CASE_METHOD(journal_fixture, "truncating up to version 3 hides 1..3 but replays 4 and 5",
                 "[journal][tck]") {
  FOR_EACH_STORE();
  REQUIRE(s().truncate_stream(pid, 3));
  auto evs = read(s(), pid);
  CHECK(versions_of(evs) == V{4, 5});
  CHECK(payloads_of(evs) == std::vector<std::string>{"e4", "e5"});
  CHECK(read(s(), pid, range(1, 3)).empty());
  CHECK(versions_of(read(s(), pid, range(1, 4))) == V{4});
  auto back = s().read_stream_backward(pid, 0, 10);
  REQUIRE(back);
  CHECK(versions_of(*back) == V{5, 4});
  auto h = head_of(s(), pid);
  CHECK(h.head == 5);
  CHECK(h.truncated_through == 3);
  // The truncated events are gone from the global log too.
  CHECK(positions_of(read_all(s())) == std::vector<global_position>{4, 5});
  // Truncating less than before changes nothing.
  REQUIRE(s().truncate_stream(pid, 2));
  CHECK(versions_of(read(s(), pid)) == V{4, 5});
  CHECK(head_of(s(), pid).truncated_through == 3);
}

TEST_CASE_METHOD(journal_fixture,
                 "truncation never lowers the highest version, not even a full truncation",
                 "[journal][tck]") {
  FOR_EACH_STORE();
  REQUIRE(s().truncate_stream(pid, 1000)); // past the head
  CHECK(read(s(), pid).empty());
  auto h = head_of(s(), pid);
  CHECK(h.head == 5);
  CHECK(h.truncated_through == 5);
  CHECK(last_pos(s()) == 5);
  // The stream is not new: no_stream must be refused, numbering continues at 6.
  auto fresh = s().append(pid, expected_version::no_stream(), one("again"));
  REQUIRE_FALSE(fresh);
  CHECK(fresh.error().code == errc::conflict);
  auto r = s().append(pid, expected_version::exact(5), one("e6"));
  REQUIRE(r);
  CHECK(r->next_expected_version == 6);
  CHECK(r->first_position == 6);
  auto evs = read(s(), pid);
  REQUIRE(versions_of(evs) == V{6});
  CHECK(evs[0].payload == "e6");
  CHECK(evs[0].position == 6);
}

TEST_CASE_METHOD(journal_fixture, "truncating an unknown stream is harmless",
                 "[journal]") {
  FOR_EACH_STORE();
  REQUIRE(s().truncate_stream("nobody", 10));
  CHECK(head_of(s(), "nobody").head == 0);
  CHECK(versions_of(read(s(), pid)) == V{1, 2, 3, 4, 5});
}

// -- reopening ------------------------------------------------------------------------------

// -- optimistic concurrency ----------------------------------------------------------------

TEST_CASE_METHOD(journal_fixture, "an existing stream version is never overwritten",
                 "[journal][tck]") {
  FOR_EACH_STORE();
  auto r = s().append(pid, expected_version::exact(2), one("overwrite"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::conflict);
  const auto& msg = r.error().message;
  CHECK_THAT(msg, Contains(std::string{pid}));
  CHECK_THAT(msg, Contains("2")); // expected
  CHECK_THAT(msg, Contains("5")); // actual
  // ... and as values, for callers that choose their answer by them.
  CHECK(r.error().conflict == version_conflict{expected_version::exact(2), 5});
  auto evs = read(s(), pid);
  REQUIRE(versions_of(evs) == V{1, 2, 3, 4, 5});
  CHECK(evs[2].payload == "e3");
  CHECK(evs[2].position == 3);
  CHECK(payloads_of(evs) == std::vector<std::string>{"e1", "e2", "e3", "e4", "e5"});
  CHECK(last_pos(s()) == 5);
  CHECK(head_of(s(), pid).head == 5);
}

TEST_CASE_METHOD(journal_fixture, "expected_version any accepts a new and an existing stream",
                 "[journal][expected_version]") {
  FOR_EACH_STORE();
  auto a = s().append("new-1", expected_version::any(), one("n1"));
  REQUIRE(a);
  CHECK(a->next_expected_version == 1);
  auto b = s().append(pid, expected_version::any(), one("e6"));
  REQUIRE(b);
  CHECK(b->next_expected_version == 6);
}

TEST_CASE_METHOD(journal_fixture,
                 "expected_version no_stream accepts only a stream that does not exist",
                 "[journal][expected_version]") {
  FOR_EACH_STORE();
  auto refused = s().append(pid, expected_version::no_stream(), one("x"));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::conflict);
  CHECK(head_of(s(), pid).head == 5);
  auto ok = s().append("new-1", expected_version::no_stream(), one("n1"));
  REQUIRE(ok);
  CHECK(ok->next_expected_version == 1);
  auto again = s().append("new-1", expected_version::no_stream(), one("n2"));
  REQUIRE_FALSE(again);
  CHECK(again.error().code == errc::conflict);
  CHECK(head_of(s(), "new-1").head == 1);
  CHECK(last_pos(s()) == 6);
}

TEST_CASE_METHOD(journal_fixture,
                 "expected_version stream_exists accepts only a stream that exists",
                 "[journal][expected_version]") {
  FOR_EACH_STORE();
  auto refused = s().append("new-1", expected_version::stream_exists(), one("x"));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::conflict);
  CHECK(refused.error().conflict == version_conflict{expected_version::stream_exists(), 0});
  CHECK(head_of(s(), "new-1").head == 0);
  CHECK(last_pos(s()) == 5);
  auto ok = s().append(pid, expected_version::stream_exists(), one("e6"));
  REQUIRE(ok);
  CHECK(ok->next_expected_version == 6);
}

TEST_CASE_METHOD(journal_fixture, "expected_version exact accepts only the current head",
                 "[journal][expected_version]") {
  FOR_EACH_STORE();
  for (stream_version wrong : {stream_version{0}, stream_version{1}, stream_version{4},
                               stream_version{6}, stream_version{100}}) {
    auto r = s().append(pid, expected_version::exact(wrong), one("x"));
    INFO("expected " << wrong);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::conflict);
  }
  CHECK(last_pos(s()) == 5);
  auto ok = s().append(pid, expected_version::exact(5), one("e6"));
  REQUIRE(ok);
  CHECK(ok->next_expected_version == 6);
  // exact(0) is the same as no_stream.
  CHECK(expected_version::exact(0) == expected_version::no_stream());
  auto fresh = s().append("new-1", expected_version::exact(0), one("n1"));
  REQUIRE(fresh);
  CHECK(fresh->next_expected_version == 1);
}

TEST_CASE("expected_version matches heads and renders its kind", "[expected_version]") {
  CHECK(expected_version::any().matches(0));
  CHECK(expected_version::any().matches(7));
  CHECK(expected_version::no_stream().matches(0));
  CHECK_FALSE(expected_version::no_stream().matches(1));
  CHECK_FALSE(expected_version::stream_exists().matches(0));
  CHECK(expected_version::stream_exists().matches(1));
  CHECK(expected_version::exact(3).matches(3));
  CHECK_FALSE(expected_version::exact(3).matches(2));
  CHECK_FALSE(expected_version::exact(3).matches(4));
  CHECK(expected_version::exact(3).which() == expected_version::kind::exact);
  CHECK(expected_version::exact(3).version() == 3);
  CHECK(expected_version{} == expected_version::any());
  CHECK(expected_version::any().to_string() == "any");
  CHECK(expected_version::no_stream().to_string() == "no_stream");
  CHECK(expected_version::stream_exists().to_string() == "stream_exists");
  CHECK(expected_version::exact(42).to_string() == "42");
}

// -- the global log --------------------------------------------------------------------------

TEST_CASE("global positions strictly increase across streams", "[journal][tck]") {
  FOR_EACH_STORE();
  test::temp_dir dir;
  auto s = open_store(dir.path());
  std::vector<std::string> ids{"a", "b", "c"};
  global_position expected_first = 1;
  for (int round = 0; round < 4; ++round) {
    for (const auto& id : ids) {
      std::vector<new_event> evs;
      for (int i = 0; i <= round % 2; ++i)
        evs.push_back(make_event(id + std::to_string(round) + "." + std::to_string(i)));
      auto n = evs.size();
      auto r = s->append(id, expected_version::any(), std::move(evs));
      REQUIRE(r);
      CHECK(r->first_position == expected_first);
      CHECK(r->last_position == expected_first + n - 1);
      expected_first += n;
    }
  }
  auto all = read_all(*s);
  REQUIRE(all.size() == expected_first - 1);
  for (std::size_t i = 0; i < all.size(); ++i) {
    CHECK(all[i].position == i + 1);
    if (i > 0)
      CHECK(all[i].position > all[i - 1].position);
  }
  // Each stream's versions are gap-free and its positions increase.
  for (const auto& id : ids) {
    auto evs = read(*s, id);
    REQUIRE(evs.size() == 6);
    for (std::size_t i = 0; i < evs.size(); ++i) {
      CHECK(evs[i].version == i + 1);
      if (i > 0)
        CHECK(evs[i].position > evs[i - 1].position);
    }
  }
  CHECK(last_pos(*s) == expected_first - 1);
}

TEST_CASE_METHOD(journal_fixture, "read_all pages through the global log", "[journal][tck]") {
  FOR_EACH_STORE();
  REQUIRE(s().append("q-1", expected_version::no_stream(), one("q1")));
  REQUIRE(s().append("q-1", expected_version::exact(1), one("q2")));
  using P = std::vector<global_position>;
  CHECK(positions_of(read_all(s(), 0, 3)) == P{1, 2, 3});
  CHECK(positions_of(read_all(s(), 3, 3)) == P{4, 5, 6});
  CHECK(positions_of(read_all(s(), 6, 3)) == P{7});
  CHECK(read_all(s(), 7, 3).empty());
  CHECK(read_all(s(), 0, 0).empty());
  CHECK(read_all(s(), std::numeric_limits<global_position>::max(), 10).empty());
  // Paging until a short page visits every event exactly once.
  P seen;
  global_position after = 0;
  for (;;) {
    auto page = read_all(s(), after, 2);
    for (const auto& e : page)
      seen.push_back(e.position);
    if (page.size() < 2)
      break;
    after = page.back().position;
  }
  CHECK(seen == P{1, 2, 3, 4, 5, 6, 7});
  auto page = read_all(s(), 5, 10);
  REQUIRE(page.size() == 2);
  CHECK(page[0].stream_id == "q-1");
  CHECK(page[0].version == 1);
  CHECK(page[0].payload == "q1");
  CHECK(page[1].version == 2);
  // The zero-copy form visits the same events and can stop early.
  P visited;
  auto n = s().read_all(2, 10, [&](const event_view& e) {
    visited.push_back(e.position);
    return visited.size() < 3;
  });
  REQUIRE(n);
  CHECK(*n == 3);
  CHECK(visited == P{3, 4, 5});
}

TEST_CASE_METHOD(journal_fixture, "read_stream_backward reads newest first from the end or a version",
                 "[journal][tck]") {
  FOR_EACH_STORE();
  auto backward = [&](stream_version from, uint64_t count) {
    auto r = s().read_stream_backward(pid, from, count);
    REQUIRE(r);
    return versions_of(*r);
  };
  CHECK(backward(0, 10) == V{5, 4, 3, 2, 1});
  CHECK(backward(0, 2) == V{5, 4});
  CHECK(backward(3, 2) == V{3, 2});
  CHECK(backward(3, 10) == V{3, 2, 1});
  CHECK(backward(1, 10) == V{1});
  CHECK(backward(100, 2) == V{5, 4});
  CHECK(backward(0, 0).empty());
  auto evs = s().read_stream_backward(pid, 4, 1);
  REQUIRE(evs);
  REQUIRE(evs->size() == 1);
  CHECK((*evs)[0].payload == "e4");
  CHECK((*evs)[0].position == 4);
  // Neighbouring streams never leak into a backward read.
  REQUIRE(s().append("p-0", expected_version::any(), one("before")));
  REQUIRE(s().append("p-2", expected_version::any(), one("after")));
  CHECK(backward(0, 10) == V{5, 4, 3, 2, 1});
  REQUIRE(s().truncate_stream(pid, 2));
  CHECK(backward(0, 10) == V{5, 4, 3});
  CHECK(backward(2, 10).empty());
}

TEST_CASE("list_streams finds streams by prefix and pages with after and limit",
          "[journal][tck]") {
  FOR_EACH_STORE();
  test::temp_dir dir;
  auto s = open_store(dir.path());
  for (std::string id : {"order-3", "order-1", "user-1", "order-2", "orde", "orderx", "a"})
    REQUIRE(s->append(id, expected_version::no_stream(), one(id)));
  REQUIRE(s->append("order-2", expected_version::exact(1), one("again")));
  auto list = [&](std::string_view prefix, std::string_view after, uint64_t limit) {
    auto r = s->list_streams(prefix, after, limit);
    REQUIRE(r);
    std::vector<std::string> ids;
    for (const auto& i : *r)
      ids.push_back(i.stream_id);
    return ids;
  };
  using S = std::vector<std::string>;
  CHECK(list("order-", "", 100) == S{"order-1", "order-2", "order-3"});
  CHECK(list("order-", "", 2) == S{"order-1", "order-2"});
  CHECK(list("order-", "order-2", 2) == S{"order-3"});
  CHECK(list("order-", "order-1", 1) == S{"order-2"});
  CHECK(list("order-", "order-3", 10).empty());
  CHECK(list("order-", "", 0).empty());
  CHECK(list("order", "", 100) == S{"order-1", "order-2", "order-3", "orderx"});
  CHECK(list("", "", 100) == S{"a", "orde", "order-1", "order-2", "order-3", "orderx", "user-1"});
  CHECK(list("", "order-3", 2) == S{"orderx", "user-1"});
  CHECK(list("zzz", "", 10).empty());
  CHECK(list("order-", "a", 10) == S{"order-1", "order-2", "order-3"}); // after < prefix
  CHECK(list("order-", "order-", 10) == S{"order-1", "order-2", "order-3"});
  CHECK(list("order-", "order-1x", 10) == S{"order-2", "order-3"}); // after need not exist
  auto infos = s->list_streams("order-2", "", 10);
  REQUIRE(infos);
  REQUIRE(infos->size() == 1);
  CHECK((*infos)[0].head == 2);
  CHECK((*infos)[0].last_position == 8);
  CHECK_FALSE((*infos)[0].deleted);
  // Deleted streams stay listed, flagged.
  REQUIRE(s->delete_stream("order-1"));
  auto after_delete = s->list_streams("order-", "", 10);
  REQUIRE(after_delete);
  REQUIRE(after_delete->size() == 3);
  CHECK((*after_delete)[0].stream_id == "order-1");
  CHECK((*after_delete)[0].deleted);
  CHECK_FALSE((*after_delete)[1].deleted);
}

// -- what an event carries ------------------------------------------------------------------

TEST_CASE("metadata, type, schema version and timestamp round-trip", "[journal][tck]") {
  FOR_EACH_STORE();
  test::temp_dir dir;
  auto s = open_store(dir.path());
  new_event e;
  e.type = "OrderPlaced";
  e.schema_version = 7;
  e.payload = std::string("bin\0ary\xff", 8);
  e.metadata.command_id = "cmd-42";
  e.metadata.correlation_id = "corr-7";
  e.metadata.causation_id = "cause-9";
  e.timestamp = 1'700'000'000'123'456'789;
  auto expected = e;
  REQUIRE(s->append("o-1", expected_version::no_stream(), {e}));
  auto check_event = [&](const recorded_event& r) {
    CHECK(r.stream_id == "o-1");
    CHECK(r.version == 1);
    CHECK(r.position == 1);
    CHECK(r.type == expected.type);
    CHECK(r.schema_version == 7);
    CHECK(r.payload == expected.payload);
    CHECK(r.metadata == expected.metadata);
    CHECK(r.metadata.command_id == "cmd-42");
    CHECK(r.metadata.correlation_id == "corr-7");
    CHECK(r.metadata.causation_id == "cause-9");
    CHECK(r.timestamp == expected.timestamp);
    CHECK_FALSE(r.corrupt);
  };
  auto fwd = read(*s, "o-1");
  REQUIRE(fwd.size() == 1);
  check_event(fwd[0]);
  auto all = read_all(*s);
  REQUIRE(all.size() == 1);
  check_event(all[0]);
  auto back = s->read_stream_backward("o-1", 0, 1);
  REQUIRE(back);
  REQUIRE(back->size() == 1);
  check_event((*back)[0]);
  std::vector<recorded_event> viewed;
  REQUIRE(s->read_all(0, 10, [&](const event_view& v) {
    viewed.push_back(v.to_owned());
    return true;
  }));
  REQUIRE(viewed.size() == 1);
  check_event(viewed[0]);
  // Empty metadata stays empty.
  REQUIRE(s->append("o-2", expected_version::no_stream(), one("plain")));
  auto plain = read(*s, "o-2");
  REQUIRE(plain.size() == 1);
  CHECK(plain[0].metadata == event_metadata{});
}

TEST_CASE("an event with timestamp 0 is stamped with the time of the append",
          "[journal][tck]") {
  FOR_EACH_STORE();
  test::temp_dir dir;
  auto s = open_store(dir.path());
  auto before = now_ns();
  REQUIRE(s->append("t-1", expected_version::no_stream(), one("x")));
  auto after = now_ns();
  auto evs = read(*s, "t-1");
  REQUIRE(evs.size() == 1);
  CHECK(evs[0].timestamp >= before);
  CHECK(evs[0].timestamp <= after);
  // An explicit timestamp is kept as given.
  auto e = make_event("y");
  e.timestamp = 42;
  REQUIRE(s->append("t-1", expected_version::exact(1), {e}));
  CHECK(read(*s, "t-1", range(2, 2)).at(0).timestamp == 42);
}

// -- deletion ---------------------------------------------------------------------------------

TEST_CASE_METHOD(journal_fixture, "a deleted stream refuses reads and appends and leaves the log",
                 "[journal][tck]") {
  FOR_EACH_STORE();
  REQUIRE(s().append("keep", expected_version::no_stream(), one("k1")));
  REQUIRE(s().delete_stream(pid));
  auto r = s().read_stream(pid);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::stream_deleted);
  auto visit = s().read_stream(pid, stream_range{}, [](const event_view&) { return true; });
  REQUIRE_FALSE(visit);
  CHECK(visit.error().code == errc::stream_deleted);
  auto back = s().read_stream_backward(pid, 0, 10);
  REQUIRE_FALSE(back);
  CHECK(back.error().code == errc::stream_deleted);
  for (auto ev : {expected_version::any(), expected_version::no_stream(),
                  expected_version::stream_exists(), expected_version::exact(5)}) {
    auto a = s().append(pid, ev, one("zombie"));
    INFO("expectation " << ev.to_string());
    REQUIRE_FALSE(a);
    CHECK(a.error().code == errc::stream_deleted);
  }
  auto all = read_all(s());
  REQUIRE(all.size() == 1);
  CHECK(all[0].stream_id == "keep");
  CHECK(all[0].position == 6);
  CHECK(last_pos(s()) == 6);
  auto h = head_of(s(), pid);
  CHECK(h.deleted);
  CHECK(h.head == 5);
  auto twice = s().delete_stream(pid);
  REQUIRE_FALSE(twice);
  CHECK(twice.code() == errc::stream_deleted);
  auto trunc = s().truncate_stream(pid, 2);
  REQUIRE_FALSE(trunc);
  CHECK(trunc.code() == errc::stream_deleted);
  auto unknown = s().delete_stream("never-was");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.code() == errc::not_found);
  CHECK(versions_of(read(s(), "keep")) == V{1});
}

TEST_CASE_METHOD(journal_fixture, "deleting a stream removes its snapshots", "[journal]") {
  FOR_EACH_STORE();
  snapshot_record snap;
  snap.stream_id = std::string{pid};
  snap.version = 5;
  snap.type = "S";
  snap.state = "state";
  REQUIRE(s().save_snapshot(snap));
  REQUIRE(s().delete_stream(pid));
  auto loaded = s().load_snapshot(pid);
  REQUIRE(loaded);
  CHECK_FALSE(loaded->has_value());
}

// -- input validation -------------------------------------------------------------------------

TEST_CASE_METHOD(journal_fixture, "bad input is refused with bad_request and writes nothing",
                 "[journal][tck]") {
  FOR_EACH_STORE();
  auto before = last_pos(s());
  auto refuse = [&](std::string id, std::vector<new_event> evs) {
    auto r = s().append(id, expected_version::any(), std::move(evs));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::bad_request);
    CHECK(last_pos(s()) == before);
    CHECK(read_all(s()).size() == 5);
  };
  SECTION("empty stream id") { refuse("", one("x")); }
  SECTION("stream id with a NUL byte") { refuse(std::string("a\0b", 3), one("x")); }
  SECTION("stream id longer than 255 bytes") {
    refuse(std::string(256, 'x'), one("x"));
    // 255 bytes is still fine.
    auto ok = s().append(std::string(255, 'x'), expected_version::any(), one("x"));
    REQUIRE(ok);
    CHECK(ok->first_position == before + 1);
  }
  SECTION("empty type name") { refuse("p-9", {make_event("x", "")}); }
  SECTION("type name longer than 255 bytes") { refuse("p-9", {make_event("x", std::string(256, 't'))}); }
  SECTION("a bad event after good ones refuses the whole append") {
    std::vector<new_event> evs;
    evs.push_back(make_event("good"));
    evs.push_back(make_event("good"));
    evs.push_back(make_event("bad", ""));
    refuse(std::string{pid}, std::move(evs));
    CHECK(head_of(s(), pid).head == 5);
  }
  SECTION("metadata id longer than 65535 bytes") {
    auto e = make_event("x");
    e.metadata.correlation_id = std::string(65536, 'c');
    refuse("p-9", {e});
  }
  SECTION("reads of invalid ids are refused too") {
    auto r = s().read_stream("");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::bad_request);
    auto h = s().stream_head(std::string(300, 'x'));
    REQUIRE_FALSE(h);
    CHECK(h.error().code == errc::bad_request);
  }
}

TEST_CASE("a payload over max_payload_size is refused with bad_request", "[journal][tck]") {
  FOR_EACH_STORE();
  test::temp_dir dir;
  store_options o;
  o.dir = dir.path();
  o.max_payload_size = 1024;
  auto s = open_store(o);
  REQUIRE(s->append("p", expected_version::no_stream(), one("first")));
  auto big = s->append("p", expected_version::exact(1), one(std::string(1025, 'x')));
  REQUIRE_FALSE(big);
  CHECK(big.error().code == errc::bad_request);
  CHECK(last_pos(*s) == 1);
  CHECK(head_of(*s, "p").head == 1);
  CHECK(read_all(*s).size() == 1);
  auto at_limit = s->append("p", expected_version::exact(1), one(std::string(1024, 'x')));
  REQUIRE(at_limit);
  CHECK(at_limit->next_expected_version == 2);
  CHECK(read(*s, "p").at(1).payload == std::string(1024, 'x'));
}

// -- multi-stream appends and group commits ---------------------------------------------------

TEST_CASE_METHOD(journal_fixture, "an atomic multi-stream append writes all or nothing",
                 "[journal][tck]") {
  FOR_EACH_STORE();
  SECTION("one failed expectation writes nothing for any stream") {
    std::vector<stream_append> batch;
    batch.push_back(stream_append{"a-1", expected_version::no_stream(), one("a1")});
    batch.push_back(stream_append{"b-1", expected_version::any(), one("b1")});
    batch.push_back(stream_append{std::string{pid}, expected_version::exact(4), one("e6")});
    auto r = s().append(std::move(batch));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::conflict);
    CHECK(last_pos(s()) == 5);
    CHECK(head_of(s(), "a-1").head == 0);
    CHECK(head_of(s(), "b-1").head == 0);
    CHECK(head_of(s(), pid).head == 5);
    CHECK(read(s(), "a-1").empty());
    CHECK(read_all(s()).size() == 5);
  }
  SECTION("a bad request in one part writes nothing for any stream") {
    std::vector<stream_append> batch;
    batch.push_back(stream_append{"a-1", expected_version::no_stream(), one("a1")});
    batch.push_back(stream_append{"", expected_version::any(), one("b1")});
    auto r = s().append(std::move(batch));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::bad_request);
    CHECK(last_pos(s()) == 5);
    CHECK(head_of(s(), "a-1").head == 0);
  }
  SECTION("when every expectation holds all streams are written in order") {
    std::vector<stream_append> batch;
    std::vector<new_event> two;
    two.push_back(make_event("a1"));
    two.push_back(make_event("a2"));
    batch.push_back(stream_append{"a-1", expected_version::no_stream(), std::move(two)});
    batch.push_back(stream_append{std::string{pid}, expected_version::exact(5), one("e6")});
    auto r = s().append(std::move(batch));
    REQUIRE(r);
    REQUIRE(r->size() == 2);
    CHECK((*r)[0].stream_id == "a-1");
    CHECK((*r)[0].next_expected_version == 2);
    CHECK((*r)[0].first_position == 6);
    CHECK((*r)[0].last_position == 7);
    CHECK((*r)[1].stream_id == pid);
    CHECK((*r)[1].next_expected_version == 6);
    CHECK((*r)[1].first_position == 8);
    CHECK((*r)[1].last_position == 8);
    CHECK(last_pos(s()) == 8);
  }
}

TEST_CASE_METHOD(journal_fixture, "a multi-stream append may extend one stream twice",
                 "[journal]") {
  FOR_EACH_STORE();
  std::vector<stream_append> batch;
  batch.push_back(stream_append{"a-1", expected_version::no_stream(), one("a1")});
  batch.push_back(stream_append{"a-1", expected_version::exact(1), one("a2")});
  auto r = s().append(std::move(batch));
  REQUIRE(r);
  REQUIRE(r->size() == 2);
  CHECK((*r)[1].next_expected_version == 2);
  CHECK((*r)[1].first_position == 7);
  CHECK(payloads_of(read(s(), "a-1")) == std::vector<std::string>{"a1", "a2"});
}

TEST_CASE_METHOD(journal_fixture,
                 "a group commit writes the appends that hold and reports each one in order",
                 "[journal][tck]") {
  FOR_EACH_STORE();
  write_batch batch;
  std::vector<new_event> two;
  two.push_back(make_event("a1"));
  two.push_back(make_event("a2"));
  two[0].metadata.command_id = "cmd-a";
  two[1].timestamp = 77;
  batch.appends.push_back(stream_append{"a-1", expected_version::no_stream(), std::move(two)});
  batch.appends.push_back(stream_append{std::string{pid}, expected_version::exact(3), one("stale")});
  batch.appends.push_back(stream_append{"", expected_version::any(), one("bad")});
  batch.appends.push_back(stream_append{std::string{pid}, expected_version::exact(5), one("e6")});
  snapshot_record snap;
  snap.stream_id = "a-1";
  snap.version = 2;
  snap.type = "S";
  snap.state = "s2";
  batch.snapshots.push_back(snap);
  auto before = now_ns();
  auto out = s().commit(batch, true);
  auto after = now_ns();
  REQUIRE(out);
  REQUIRE(out->appends.size() == 4);
  REQUIRE(out->appends[0]);
  CHECK(out->appends[0]->stream_id == "a-1");
  CHECK(out->appends[0]->next_expected_version == 2);
  CHECK(out->appends[0]->first_position == 6);
  CHECK(out->appends[0]->last_position == 7);
  REQUIRE_FALSE(out->appends[1]);
  CHECK(out->appends[1].error().code == errc::conflict);
  REQUIRE_FALSE(out->appends[2]);
  CHECK(out->appends[2].error().code == errc::bad_request);
  REQUIRE(out->appends[3]);
  CHECK(out->appends[3]->next_expected_version == 6);
  CHECK(out->appends[3]->first_position == 8);

  const auto& c = out->committed;
  REQUIRE(c.size() == 3);
  CHECK(positions_of(c) == std::vector<global_position>{6, 7, 8});
  CHECK(c[0].stream_id == "a-1");
  CHECK(c[0].version == 1);
  CHECK(c[0].payload == "a1");
  CHECK(c[0].metadata.command_id == "cmd-a");
  CHECK(c[0].timestamp >= before);
  CHECK(c[0].timestamp <= after);
  CHECK(c[1].stream_id == "a-1");
  CHECK(c[1].version == 2);
  CHECK(c[1].timestamp == 77);
  CHECK(c[2].stream_id == pid);
  CHECK(c[2].version == 6);
  CHECK(c[2].payload == "e6");

  // The committed events are exactly what the log now holds.
  auto stored = read_all(s(), 5);
  REQUIRE(stored.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(stored[i].stream_id == c[i].stream_id);
    CHECK(stored[i].version == c[i].version);
    CHECK(stored[i].position == c[i].position);
    CHECK(stored[i].payload == c[i].payload);
    CHECK(stored[i].timestamp == c[i].timestamp);
    CHECK(stored[i].metadata == c[i].metadata);
    CHECK(stored[i].type == c[i].type);
  }
  // The stale append changed nothing; the snapshot was saved in the same commit.
  CHECK(read(s(), pid, range(3, 3)).at(0).payload == "e3");
  auto loaded = s().load_snapshot("a-1");
  REQUIRE(loaded);
  REQUIRE(loaded->has_value());
  CHECK((*loaded)->state == "s2");
  CHECK(last_pos(s()) == 8);
}

TEST_CASE_METHOD(journal_fixture, "a group commit without collect leaves committed empty",
                 "[journal]") {
  FOR_EACH_STORE();
  write_batch batch;
  batch.appends.push_back(stream_append{"a-1", expected_version::no_stream(), one("a1")});
  auto out = s().commit(batch, false);
  REQUIRE(out);
  REQUIRE(out->appends.size() == 1);
  CHECK(out->appends[0]);
  CHECK(out->committed.empty());
  CHECK(head_of(s(), "a-1").head == 1);
}

// -- storage ------------------------------------------------------------------------------------

TEST_CASE("a visitor that throws gets an error value and leaves the store working",
          "[journal]") {
  FOR_EACH_STORE();
  test::temp_dir dir;
  auto s = open_store(dir.path());
  write_fixture_events(*s, pid);
  auto r = s->read_all(0, 10, [](const event_view&) -> bool { throw std::runtime_error("boom"); });
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::io_error);
  CHECK(r.error().message.find("boom") != std::string::npos);
  // The read transaction was ended: writes and reads go on (a leaked reader would pin
  // pages; a leaked writer would hang the next append).
  REQUIRE(s->append("after-1", expected_version::no_stream(), one("a")));
  CHECK(last_pos(*s) == 6);
}

TEST_CASE_METHOD(journal_fixture, "stats count events, streams and snapshots",
                 "[journal][tck]") {
  FOR_EACH_STORE();
  REQUIRE(s().append("q-1", expected_version::no_stream(), {make_event("q1"), make_event("q2")}));
  for (stream_version v : {stream_version{2}, stream_version{4}}) {
    snapshot_record snap;
    snap.stream_id = std::string{pid};
    snap.version = v;
    snap.type = "S";
    snap.state = "s";
    REQUIRE(s().save_snapshot(snap));
  }
  auto st = s().stats();
  REQUIRE(st);
  CHECK(st->events == 7);
  CHECK(st->streams == 2);
  CHECK(st->snapshots == 2);
  CHECK(st->last_position == 7);
  if (current_kind == store_kind::lmdb) { // sizes of the file (0 for a store without one)
    CHECK(st->map_size > 0);
    CHECK(st->map_used > 0);
    CHECK(st->map_used <= st->map_size);
    CHECK(st->file_size > 0);
  }
  REQUIRE(s().truncate_stream(pid, 3));
  auto after = s().stats();
  REQUIRE(after);
  CHECK(after->events == 4);
  CHECK(after->last_position == 7);
}

// -- shard reads ----------------------------------------------------------------------------

// A store of `shards` shards holding `streams` streams of `per_stream` events each,
// appended round-robin (so every shard's events interleave with other shards').
std::unique_ptr<event_store> sharded_store(const std::filesystem::path& dir, uint16_t shards,
                                           int streams, int per_stream) {
  store_options o;
  o.dir = dir;
  o.shard_count = shards;
  auto store = open_store(o);
  for (int v = 1; v <= per_stream; ++v)
    for (int i = 0; i < streams; ++i)
      REQUIRE(store->append("s-" + std::to_string(i), expected_version::exact(v - 1),
                            one("e" + std::to_string(i) + "." + std::to_string(v))));
  return store;
}

shard_chunk read_shard(event_store& s, uint16_t shard, uint64_t after, uint64_t max,
                       global_position hint = 0) {
  shard_range r;
  r.shard = shard;
  r.after = after;
  r.max_count = max;
  r.from_position = hint;
  auto c = s.read_shard(r);
  REQUIRE(c);
  return std::move(*c);
}

// (stream, version, shard position) of each event, to compare reads.
using shard_rows = std::vector<std::tuple<std::string, stream_version, uint64_t>>;

shard_rows rows_of(const std::vector<event_view>& events) {
  shard_rows out;
  for (const auto& e : events)
    out.emplace_back(std::string{e.stream_id}, e.version, e.shard_position);
  return out;
}

shard_rows rows_of(const std::vector<recorded_event>& events, uint16_t shard, uint64_t after) {
  shard_rows out;
  for (const auto& e : events)
    if (e.shard == shard && e.shard_position > after)
      out.emplace_back(e.stream_id, e.version, e.shard_position);
  return out;
}

TEST_CASE_METHOD(journal_fixture,
                 "a shard read returns the shard's events in shard-position order after a position",
                 "[journal][tck][shard]") {
  FOR_EACH_STORE();
  store = sharded_store(dir.path() / "sharded", 4, 12, 3);
  auto all = read_all(*store);
  for (uint16_t shard = 0; shard < 4; ++shard) {
    INFO("shard " << shard);
    auto whole = read_shard(*store, shard, 0, 1000);
    CHECK(rows_of(whole.events.events()) == rows_of(all, shard, 0));
    CHECK(whole.at_end);
    CHECK(whole.head == std::get<2>(rows_of(all, shard, 0).back()));
    uint64_t expect = 0;
    for (const auto& e : whole.events.events()) {
      CHECK_FALSE(e.corrupt);
      CHECK(e.shard == shard);
      CHECK(e.shard_position == ++expect); // consecutive from 1: nothing was deleted
    }
    auto later = read_shard(*store, shard, 4, 1000);
    CHECK(rows_of(later.events.events()) == rows_of(all, shard, 4));
    CHECK(read_shard(*store, shard, whole.head, 1000).events.events().empty());
  }
}

TEST_CASE_METHOD(journal_fixture, "a shard read returns at most max_count events",
                 "[journal][tck][shard]") {
  FOR_EACH_STORE();
  store = sharded_store(dir.path() / "sharded", 4, 12, 3);
  auto all = read_all(*store);
  auto first = read_shard(*store, 1, 0, 2);
  auto expected = rows_of(all, 1, 0);
  REQUIRE(expected.size() > 2);
  CHECK(rows_of(first.events.events()) == shard_rows(expected.begin(), expected.begin() + 2));
  CHECK_FALSE(first.at_end);
  CHECK(read_shard(*store, 1, 0, 0).events.events().empty());
}

TEST_CASE_METHOD(journal_fixture, "a shard read resumed from its hint equals one without",
                 "[journal][tck][shard]") {
  FOR_EACH_STORE();
  store = sharded_store(dir.path() / "sharded", 4, 12, 3);
  for (uint16_t shard = 0; shard < 4; ++shard) {
    INFO("shard " << shard);
    shard_rows hinted, plain;
    uint64_t after_hinted = 0, after_plain = 0;
    global_position hint = 0;
    for (int round = 0; round < 100; ++round) {
      auto c = read_shard(*store, shard, after_hinted, 2, hint);
      auto r = rows_of(c.events.events());
      hinted.insert(hinted.end(), r.begin(), r.end());
      if (!r.empty())
        after_hinted = std::get<2>(r.back());
      CHECK(c.next_hint >= hint);
      hint = c.next_hint;
      if (c.at_end)
        break;
    }
    for (int round = 0; round < 100; ++round) {
      auto c = read_shard(*store, shard, after_plain, 2);
      auto r = rows_of(c.events.events());
      plain.insert(plain.end(), r.begin(), r.end());
      if (!r.empty())
        after_plain = std::get<2>(r.back());
      if (c.at_end)
        break;
    }
    CHECK(hinted == plain);
    CHECK(hinted == rows_of(read_all(*store), shard, 0));
  }
}

TEST_CASE_METHOD(journal_fixture, "a shard without events reads empty with head 0",
                 "[journal][tck][shard]") {
  FOR_EACH_STORE();
  store = sharded_store(dir.path() / "sharded", 64, 1, 2);
  auto used = read_all(*store).front().shard;
  uint16_t empty = used == 0 ? 1 : 0;
  auto c = read_shard(*store, empty, 0, 100);
  CHECK(c.events.events().empty());
  CHECK(c.head == 0);
  CHECK(c.at_end);
  CHECK(read_shard(*store, used, 0, 100).events.events().size() == 2);
  shard_range out_of_range;
  out_of_range.shard = 64;
  auto bad = store->read_shard(out_of_range);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == errc::bad_request);
}

TEST_CASE_METHOD(journal_fixture, "truncated and deleted streams leave gaps in a shard read",
                 "[journal][tck][shard]") {
  FOR_EACH_STORE();
  store = sharded_store(dir.path() / "sharded", 1, 3, 3); // s-0 s-1 s-2, 9 events
  REQUIRE(store->truncate_stream("s-0", 2));
  REQUIRE(store->delete_stream("s-1"));
  auto c = read_shard(*store, 0, 0, 100);
  shard_rows expected{{"s-2", 1, 3}, {"s-2", 2, 6}, {"s-0", 3, 7}, {"s-2", 3, 9}};
  CHECK(rows_of(c.events.events()) == expected);
  CHECK(c.head == 9);
  CHECK(c.at_end);
  auto later = read_shard(*store, 0, 6, 1);
  CHECK(rows_of(later.events.events()) == shard_rows{{"s-0", 3, 7}});
  CHECK_FALSE(later.at_end);
}

} // namespace journal_tck_cases
