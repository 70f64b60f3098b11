// Helpers of the journal conformance suite (journal_tck_test.cpp) and of the LMDB store's
// own cases (lmdb_journal_test.cpp). Most cases start from one stream, "p-1", whose
// events 1..5 were written as three single-event appends (1, 2, 3) and then one atomic
// append of 4 and 5.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "annal/event_store.hpp"
#include "annal/memory_event_store.hpp"
#include "temp_dir.hpp"

/// Runs the rest of the test case once per store implementation (Catch re-enters it).
#define FOR_EACH_STORE()                                                                   \
  ::journal_test::current_kind =                                                           \
    GENERATE(::journal_test::store_kind::lmdb, ::journal_test::store_kind::memory);        \
  INFO("store: " << (::journal_test::current_kind == ::journal_test::store_kind::lmdb      \
                       ? "lmdb"                                                            \
                       : "memory"))

namespace journal_test {

using namespace annal;

inline constexpr std::string_view pid = "p-1";

inline new_event make_event(std::string payload, std::string type = "T") {
  new_event e;
  e.type = std::move(type);
  e.schema_version = 1;
  e.payload = std::move(payload);
  return e;
}

inline std::vector<new_event> one(std::string payload) {
  std::vector<new_event> v;
  v.push_back(make_event(std::move(payload)));
  return v;
}

inline std::vector<stream_version> versions_of(const std::vector<recorded_event>& evs) {
  std::vector<stream_version> out;
  for (const auto& e : evs)
    out.push_back(e.version);
  return out;
}

inline std::vector<global_position> positions_of(const std::vector<recorded_event>& evs) {
  std::vector<global_position> out;
  for (const auto& e : evs)
    out.push_back(e.position);
  return out;
}

inline std::vector<std::string> payloads_of(const std::vector<recorded_event>& evs) {
  std::vector<std::string> out;
  for (const auto& e : evs)
    out.push_back(e.payload);
  return out;
}

/// The store implementations the conformance suite runs against.
enum class store_kind { lmdb, memory };

/// The implementation the running test case uses (set by FOR_EACH_STORE).
inline store_kind current_kind = store_kind::lmdb;

/// Opens a store of current_kind (the in-memory one ignores the folder).
inline std::unique_ptr<event_store> open_store(store_options o) {
  if (current_kind == store_kind::memory)
    return make_memory_event_store(o);
  auto r = event_store::open(o);
  REQUIRE(r);
  return std::move(*r);
}

inline std::unique_ptr<event_store> open_store(const std::filesystem::path& dir) {
  store_options o;
  o.dir = dir;
  return open_store(o);
}

inline global_position last_pos(event_store& s) {
  auto r = s.last_position();
  REQUIRE(r);
  return *r;
}

inline stream_info head_of(event_store& s, std::string_view id) {
  auto r = s.stream_head(id);
  REQUIRE(r);
  return *r;
}

inline std::vector<recorded_event> read(event_store& s, std::string_view id, stream_range range = {}) {
  auto r = s.read_stream(id, range);
  REQUIRE(r);
  return std::move(*r);
}

inline std::vector<recorded_event> read_all(event_store& s, global_position after = 0,
                                     uint64_t max = 1000000) {
  auto r = s.read_all(after, max);
  REQUIRE(r);
  return std::move(*r);
}

inline stream_range range(stream_version from, stream_version to,
                   uint64_t max = std::numeric_limits<uint64_t>::max()) {
  stream_range r;
  r.from = from;
  r.to = to;
  r.max_count = max;
  return r;
}

// Writes events 1..5 of `id`: appends of 1, 2 and 3, then 4 and 5 in one atomic append.
inline void write_fixture_events(event_store& s, std::string_view id) {
  for (stream_version v = 1; v <= 3; ++v) {
    auto r = s.append(id, expected_version::exact(v - 1), one("e" + std::to_string(v)));
    REQUIRE(r);
    REQUIRE(r->next_expected_version == v);
  }
  std::vector<new_event> two;
  two.push_back(make_event("e4"));
  two.push_back(make_event("e5"));
  auto r = s.append(id, expected_version::exact(3), std::move(two));
  REQUIRE(r);
  REQUIRE(r->next_expected_version == 5);
}

/// A store holding events 1..5 of `pid`, opened on first use (after FOR_EACH_STORE chose
/// its kind).
struct journal_fixture {
  test::temp_dir dir;
  std::unique_ptr<event_store> store;

  event_store& s() {
    if (!store) {
      store = open_store(dir.path() / "journal");
      write_fixture_events(*store, pid);
    }
    return *store;
  }
};

using V = std::vector<stream_version>;

} // namespace journal_test

