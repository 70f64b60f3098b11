// Commands reach live instances without the router (instance_directory): one caller's
// commands keep their order, and the router still sees an instance used straight as used.
#include <catch2/catch.hpp>

#include <cereal/types/string.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "annal/aggregate_host.hpp"
#include "annal/decision.hpp"
#include "bank_account.hpp"
#include "temp_dir.hpp"
#include "write_side_helpers.hpp"

using namespace annal;
using namespace std::chrono_literals;
using test::config_in;

namespace {

// Counts every evolve, a replay's included: a passivated instance replays its events
// when it comes back, so more evolves than events means it was passivated.
std::atomic<uint64_t> evolves{0};

struct bumped {
  static constexpr std::string_view event_type = "bump.bumped";
  template <class Archive>
  void serialize(Archive&) {}
};
struct bump {
  template <class Archive>
  void serialize(Archive&) {}
};
struct bump_state {
  uint64_t n = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(n); }
};

struct bumper {
  using state = bump_state;
  using command = bump;
  using event = bumped;
  static constexpr std::string_view category = "bumper";
  static decision<event> decide(const state&, const command&) { return bumped{}; }
  static void evolve(state& s, const event&) {
    ++s.n;
    ++evolves;
  }
};

} // namespace

TEST_CASE("one caller's commands to an aggregate keep their order while its instance starts, "
          "passivates and comes back",
          "[aggregate][router][order]") {
  test::temp_dir dir;
  aggregate_options opts;
  opts.idle_timeout = 1ms; // the router ticks every 5 ms: instances come and go all the time
  auto rt = test::start_runtime<bank::account>(config_in(dir), opts);
  REQUIRE(rt);
  constexpr int ids = 200, per_id = 6;
  auto name = [](int i) { return "o" + std::to_string(i); };
  auto command_id = [](int i, int k) { return "c" + std::to_string(i) + "-" + std::to_string(k); };
  // Back to back, without waiting: the first command starts the instance (through the
  // router) while the next ones are already on their way. Then rounds across all ids.
  std::vector<std::future<command_result>> replies;
  auto send = [&](int i, int k) {
    auto o = test::with_id(command_id(i, k));
    replies.push_back(k == 0 ? rt->send<bank::account>(name(i), bank::open{"o"}, o)
                             : rt->send<bank::account>(name(i), bank::deposit{k}, o));
  };
  for (int i = 0; i < ids / 2; ++i)
    for (int k = 0; k < per_id; ++k)
      send(i, k);
  for (int k = 0; k < per_id; ++k)
    for (int i = ids / 2; i < ids; ++i)
      send(i, k);
  for (auto& f : replies)
    REQUIRE(test::get_within(f, 30s)); // a deposit before its open would be rejected
  for (int i = 0; i < ids; ++i) {
    INFO("aggregate " << name(i));
    std::vector<recorded_event> records;
    test::raw_events<bank::account>(*rt, name(i), &records);
    REQUIRE(records.size() == per_id);
    for (int k = 0; k < per_id; ++k)
      CHECK(records[static_cast<std::size_t>(k)].metadata.command_id == command_id(i, k));
  }
  REQUIRE(rt->stop());
}

TEST_CASE("an instance whose commands reach it straight is not passivated as idle while they "
          "keep coming, and is once they stop",
          "[aggregate][router][passivation]") {
  test::temp_dir dir;
  aggregate_options opts;
  opts.idle_timeout = 40ms;
  opts.snapshot_every = 1'000'000; // a comeback replays every event...
  opts.passivated_state_bytes = 0;  // ...and finds no state kept from its passivation
  auto rt = test::start_runtime<bumper>(config_in(dir), opts);
  REQUIRE(rt);
  evolves = 0;
  constexpr int commands = 60; // one every 5 ms: 300 ms, several idle timeouts
  for (int i = 0; i < commands; ++i) {
    REQUIRE(test::get_within(rt->send<bumper>("b", bump{}), 10s));
    std::this_thread::sleep_for(5ms);
  }
  CHECK(evolves.load() == commands); // each event once: the instance never came back
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (test::live_instances<bumper>(*rt) != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  CHECK(test::live_instances<bumper>(*rt) == 0);
  auto r = test::get_within(rt->send<bumper>("b", bump{}), 10s);
  REQUIRE(r);
  CHECK(r->version == commands + 1);
  CHECK(evolves.load() == 2 * commands + 1); // the comeback replayed the history
  REQUIRE(rt->stop());
}
