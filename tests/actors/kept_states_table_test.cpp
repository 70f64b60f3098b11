// The table that keeps passivated instances' states (passivated_states.hpp) on its own:
// it answers as a plain map does, drops the oldest puts first, and costs little per entry
// -- the budget exists to hold many small states, not their bookkeeping.
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <random>
#include <string>

#include "annal/aggregate_options.hpp"
#include "annal/detail/passivated_states.hpp"

namespace kept_states_table_cases {

using annal::detail::passivated_state;
using annal::detail::passivated_states;

namespace {

passivated_state state_of(uint64_t seed, std::size_t bytes) {
  passivated_state s;
  s.version = seed % 1000;
  s.last_position = seed * 7919;
  s.last_shard_position = seed * 31;
  s.last_snapshot = seed % 3 == 0 ? 0 : seed % 500;
  for (std::size_t i = 0; i < bytes; ++i) // zeros and not, as serialized integers have
    s.bytes.push_back(((seed >> (i % 16)) & 1) != 0 ? static_cast<char>(seed + i) : '\0');
  return s;
}

bool same(const passivated_state& a, const passivated_state& b) {
  return a.version == b.version && a.last_position == b.last_position
         && a.last_shard_position == b.last_shard_position && a.last_snapshot == b.last_snapshot
         && a.bytes == b.bytes;
}

} // namespace

TEST_CASE("kept states answer as a plain map under random puts, takes and clears",
          "[aggregate][passivation][kept_states]") {
  passivated_states table{std::size_t{64} << 20}; // nothing is dropped for room here
  std::map<std::string, passivated_state> model;
  std::mt19937_64 rng{20261207};
  for (int op = 0; op < 200000; ++op) {
    auto id = "stream-" + std::to_string(rng() % 5000);
    auto roll = rng() % 1000;
    if (roll < 550) {
      auto s = state_of(rng(), rng() % 40);
      model[id] = s;
      table.put(id, std::move(s), table.epoch());
    } else if (roll < 999) {
      auto got = table.take(id);
      auto want = model.find(id);
      REQUIRE(got.has_value() == (want != model.end()));
      if (got) {
        REQUIRE(same(*got, want->second));
        model.erase(want);
      }
    } else {
      table.clear();
      model.clear();
    }
    REQUIRE(table.size() == model.size());
  }
  for (auto& [id, s] : model) {
    auto got = table.take(id);
    REQUIRE(got);
    CHECK(same(*got, s));
  }
  CHECK(table.size() == 0);
}

TEST_CASE("a full table of kept states drops exactly its oldest puts", "[aggregate][passivation][kept_states]") {
  passivated_states table{16 << 10};
  for (int i = 0; i < 400; ++i)
    table.put("s" + std::to_string(i), state_of(i, 100), table.epoch());
  CHECK(table.bytes() <= 16 << 10);
  auto kept = static_cast<int>(table.size());
  REQUIRE(kept > 50);
  REQUIRE(kept < 400);
  // A take from the middle makes room: the next put drops at most the oldest one.
  auto middle = 400 - kept / 2;
  REQUIRE(table.take("s" + std::to_string(middle)));
  table.put("late", state_of(1, 100), table.epoch());
  CHECK(table.bytes() <= 16 << 10);
  int first_kept = -1;
  for (int i = 0; i < 400; ++i) {
    if (i == middle)
      continue;
    bool here = table.take("s" + std::to_string(i)).has_value();
    if (here && first_kept < 0)
      first_kept = i;
    if (first_kept >= 0)
      CHECK(here); // what stayed is a suffix of the puts
  }
  CHECK(first_kept >= 400 - kept);
  CHECK(first_kept <= 401 - kept);
  CHECK(table.take("late"));
  CHECK(table.size() == 0);
}

TEST_CASE("the default budget keeps the states of 900,000 passivated counters",
          "[aggregate][passivation][kept_states]") {
  // The benchmarks' counter (W4: a million of them, at most 100,000 live): an id of 14
  // characters, a state of two 8-byte integers and an empty list of command ids, numbers
  // as a few million events in. Node-based maps kept a quarter of them in 64 MiB.
  auto counter = [](int i) {
    passivated_state s;
    s.version = 5;
    s.last_position = 4000000 + static_cast<uint64_t>(i);
    s.last_shard_position = 4000000 + static_cast<uint64_t>(i);
    s.bytes.assign(24, '\0');
    s.bytes[0] = static_cast<char>(i % 100); // the total
    s.bytes[8] = 5;                           // the count
    return s;
  };
  passivated_states table{annal::aggregate_options{}.passivated_state_bytes};
  constexpr int n = 900000;
  for (int i = 0; i < n; ++i)
    table.put("counter-" + std::to_string(100000 + i), counter(i), table.epoch());
  CHECK(table.size() == n);
  CHECK(table.take("counter-100000"));
  auto back = table.take("counter-" + std::to_string(100000 + n / 2));
  REQUIRE(back);
  CHECK(same(*back, counter(n / 2)));
}

} // namespace kept_states_table_cases
