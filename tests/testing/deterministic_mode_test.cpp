// The fixture's deterministic mode: every actor of the runtime on CAF's test coordinator,
// stepped by the test one message at a time, with a virtual clock for ticks and timers.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "annal/detail/aggregate_router.hpp"
#include "annal/event_handlers.hpp"
#include "annal/testing/runtime_fixture.hpp"
#include "bank_account.hpp"
#include "bank_fixture_views.hpp"

namespace deterministic_mode_cases {

using namespace annal;
using namespace std::chrono_literals;
using annal::testing::fixture_options;
using annal::testing::runtime_fixture;
using bank_fixture_views::balance_of;
using bank_fixture_views::bank_router;

namespace {

fixture_options deterministic(std::function<status(runtime&)> setup) {
  fixture_options o;
  o.deterministic = true;
  o.setup = std::move(setup);
  return o;
}

status setup_bank(runtime& rt) {
  return rt.register_aggregate<bank::account>();
}

bool ready(const std::future<command_result>& f) {
  return f.wait_for(0s) == std::future_status::ready;
}

// The state of one of its instances.
detail::instance_state<bank::account>& account_instance(const caf::actor& instance) {
  return dynamic_cast<detail::instance_actor<bank::account>&>(*caf::actor_cast<caf::abstract_actor*>(instance)).state;
}

// Bank accounts with at most one live instance, and at most `in_flight` appends each;
// without `keep_states`, an activation always loads from the journal (nothing is kept of
// a passivated instance's state).
fixture_options one_live_account(std::size_t in_flight = 256, bool keep_states = true) {
  return deterministic([in_flight, keep_states](runtime& rt) {
    aggregate_options o;
    o.max_live = 1;
    o.max_in_flight = in_flight;
    if (!keep_states)
      o.passivated_state_bytes = 0;
    return rt.register_aggregate<bank::account>(o);
  });
}

// What one scripted run did: for each answer, its label, the step that delivered it and
// the journal position its events got.
struct trace {
  std::vector<std::string> answers;
  std::size_t steps = 0;
  bool operator==(const trace& o) const { return answers == o.answers && steps == o.steps; }
};

// Two accounts, commands sent to both at once, stepped until every answer came.
trace scripted_run() {
  runtime_fixture fx{deterministic(setup_bank)};
  trace t;
  auto note = [&t](std::string label) {
    return [&t, label = std::move(label)](command_result r) {
      t.answers.push_back(label + "@" + std::to_string(t.steps) + ":"
                          + (r ? std::to_string(r->position) : r.error().to_string()));
    };
  };
  fx->send<bank::account>("a", bank::open{"ann"}, {}, note("open a"));
  fx->send<bank::account>("b", bank::open{"bob"}, {}, note("open b"));
  fx->send<bank::account>("a", bank::deposit{5}, {}, note("deposit a"));
  fx->send<bank::account>("b", bank::withdraw{5}, {}, note("withdraw b"));
  fx->send<bank::account>("a", bank::deposit{7}, {}, note("deposit a again"));
  for (int i = 0; i < 100000 && t.answers.size() < 5; ++i) {
    REQUIRE(fx.step());
    ++t.steps;
  }
  REQUIRE(t.answers.size() == 5);
  return t;
}

} // namespace

TEST_CASE("in deterministic mode nothing runs until the test steps, one message at a time",
          "[testing][fixture][deterministic]") {
  runtime_fixture fx{deterministic(setup_bank)};
  fx.run(); // whatever start() queued
  CHECK(fx.queued() == 0);
  auto f = fx->send<bank::account>("a", bank::open{"ann"});
  CHECK(fx.queued() == 1); // the router has the command; nobody ran it
  CHECK_FALSE(ready(f));
  // Router, instance, loader, writer, and back: the answer takes several steps, and each
  // step runs one message.
  std::size_t steps = 0;
  while (!ready(f) && steps < 1000) {
    REQUIRE(fx.step());
    ++steps;
  }
  REQUIRE(ready(f));
  CHECK(steps >= 3);
  auto r = f.get();
  REQUIRE(r);
  CHECK(r->version == 1);
  CHECK(balance_of(fx, "a") == 0);
  // await() runs what a future needs.
  auto deposited = fx.await(fx->send<bank::account>("a", bank::deposit{12}));
  REQUIRE(deposited);
  CHECK(balance_of(fx, "a") == 12);
}

TEST_CASE("a scenario run twice in deterministic mode takes the same steps and positions",
          "[testing][fixture][deterministic]") {
  auto first = scripted_run();
  auto second = scripted_run();
  INFO("first: " << Catch::Detail::stringify(first.answers));
  INFO("second: " << Catch::Detail::stringify(second.answers));
  CHECK(first == second);
  // The withdrawal from b is refused (no money): an answer without a position.
  auto refused = std::count_if(first.answers.begin(), first.answers.end(),
                               [](const std::string& a) { return a.find("insufficient funds") != std::string::npos; });
  CHECK(refused == 1);
}

TEST_CASE("in deterministic mode the answers of one group commit come in the order their "
          "commands reached the journal, not in the order of their actors' addresses",
          "[testing][fixture][deterministic]") {
  runtime_fixture fx{deterministic(setup_bank)};
  // Eight instances, created a to h (so, most likely, at rising addresses)...
  std::vector<std::string> ids;
  for (char c = 'a'; c <= 'h'; ++c) {
    ids.emplace_back(1, c);
    REQUIRE(fx.await(fx->send<bank::account>(ids.back(), bank::open{ids.back()})));
  }
  fx.run();
  // ...then deposits sent h to a, committed together: answered h to a.
  std::vector<std::string> answered;
  for (auto id = ids.rbegin(); id != ids.rend(); ++id)
    fx->send<bank::account>(*id, bank::deposit{1}, {}, [&answered, id = *id](command_result r) {
      REQUIRE(r);
      answered.push_back(id);
    });
  for (int i = 0; i < 10000 && answered.size() < ids.size(); ++i)
    REQUIRE(fx.step());
  CHECK(answered == std::vector<std::string>(ids.rbegin(), ids.rend()));
}

TEST_CASE("a process manager's timer fires only when the test moves the clock past it, once",
          "[testing][fixture][deterministic][timers]") {
  auto setup = [](runtime& rt) -> status {
    if (auto ok = rt.register_aggregate<bank::account>(); !ok)
      return ok;
    // Each deposit of 100 or more pays a bonus of 1 an hour after it.
    process_manager pm;
    pm.options.name = "bonus";
    auto handlers = event_handlers<process_context>{rt.registry()}.on<bank::deposited>(
      [](process_context& ctx, const event_context& c, const bank::deposited& d) -> status {
        if (d.amount < 100)
          return {};
        auto due = c.event.timestamp + std::chrono::duration_cast<std::chrono::nanoseconds>(1h).count();
        return ctx.schedule<bank::account>("bonus-" + std::string{c.aggregate_id}, due,
                                           std::string{c.aggregate_id}, bank::deposit{1});
      });
    pm.options.filter = handlers.filter();
    pm.handle = handlers;
    return rt.add_process_manager(std::move(pm));
  };
  runtime_fixture fx{deterministic(setup)};
  REQUIRE(fx.await(fx->send<bank::account>("a", bank::open{"ann"})));
  REQUIRE(fx.await(fx->send<bank::account>("a", bank::deposit{150})));
  fx.run(); // the manager handles the deposit and stores its timer
  CHECK(balance_of(fx, "a") == 150);
  fx.advance_time(30min);
  CHECK(balance_of(fx, "a") == 150); // not due yet, however many ticks ran
  fx.advance_time(31min);
  fx.run();
  CHECK(balance_of(fx, "a") == 151);
  fx.advance_time(5h);
  fx.run();
  CHECK(balance_of(fx, "a") == 151); // fired once
}

TEST_CASE("in deterministic mode an idle instance is passivated once the virtual clock passes "
          "idle_timeout",
          "[testing][fixture][deterministic]") {
  runtime_fixture fx{deterministic([](runtime& rt) {
    aggregate_options o;
    o.idle_timeout = 1min;
    return rt.register_aggregate<bank::account>(o);
  })};
  REQUIRE(fx.await(fx->send<bank::account>("a", bank::open{"ann"})));
  auto& st = bank_router(fx); // how many instances are live
  fx.run();
  CHECK(st.live == 1);
  fx.advance_time(50s);
  CHECK(st.live == 1);
  fx.advance_time(2min);
  fx.advance_time(1min); // the tick after the idle one
  CHECK(st.live == 0);
  REQUIRE(fx.await(fx->send<bank::account>("a", bank::deposit{3}))); // loaded again
  CHECK(st.live == 1);
  CHECK(balance_of(fx, "a") == 3);
}

TEST_CASE("a passivated instance keeps nothing of its aggregate and ignores the wake-up it armed "
          "for it",
          "[testing][fixture][deterministic][passivation]") {
  // A command that has to wait (behind a load, or here behind a full pipeline) arms a
  // wake-up for its deadline. The passivated instance goes back to its router as a spare
  // for another id: what it held of "a" must be gone (1 M aggregates with 100 k live kept
  // every passivated state in memory while such wake-ups were pending), and the wake-up,
  // when it fires, must not touch what it serves next.
  runtime_fixture fx{one_live_account(1)};
  // Sent at once: the second waits behind the first's append, arming the wake-up.
  auto opened = fx->send<bank::account>("a", bank::open{"ann"});
  auto deposited = fx->send<bank::account>("a", bank::deposit{1});
  REQUIRE(fx.await(std::move(opened)));
  REQUIRE(fx.await(std::move(deposited)));
  auto& st = bank_router(fx);
  fx.run();
  REQUIRE(st.instances.count("a") == 1);
  auto a = st.instances.at("a").instance;
  auto& ist = account_instance(a);
  REQUIRE(ist.expiry_armed); // the case this pins
  REQUIRE(fx.await(fx->send<bank::account>("b", bank::open{"bob"}))); // passivates a
  fx.run();
  CHECK(st.instances.count("a") == 0);
  REQUIRE(st.spare.size() == 1);
  CHECK(st.spare.front() == a);
  CHECK(ist.stream_id.empty());
  CHECK_FALSE(ist.tentative);
  CHECK(ist.recent.size() == 0);
  fx.advance_time(1500ms); // the wake-up armed for "a" fires at the spare
  fx.run();
  CHECK(ist.stream_id.empty());
  // The spare serves the next id from scratch; "a" comes back with its journal's state.
  REQUIRE(fx.await(fx->send<bank::account>("c", bank::open{"cy"})));
  CHECK(st.instances.at("c").instance == a);
  CHECK(balance_of(fx, "a") == 1);
  CHECK(balance_of(fx, "c") == 0);
}

TEST_CASE("a command waiting for its instance's load arms no wake-up and fails at the load's end "
          "when its deadline passed",
          "[testing][fixture][deterministic][passivation]") {
  // Every wake-up is a delayed message, which wakes CAF's clock thread; W4 armed one per
  // activation. A load never waits for the journal's writer, so the deadline is checked
  // when the load ends instead.
  runtime_fixture fx{one_live_account(256, false)};
  REQUIRE(fx.await(fx->send<bank::account>("a", bank::open{"ann"})));
  REQUIRE(fx.await(fx->send<bank::account>("b", bank::open{"bob"}))); // passivates a
  fx.run();
  auto& st = bank_router(fx);
  command_options quick;
  quick.timeout = 1ms;
  auto late = fx->send<bank::account>("a", bank::deposit{1}, quick);
  using phase = detail::instance_state<bank::account>::phase;
  detail::instance_state<bank::account>* ist = nullptr;
  for (int i = 0; i < 100 && fx.step(); ++i) {
    auto e = st.instances.find("a");
    if (e == st.instances.end())
      continue;
    ist = &account_instance(e->second.instance);
    if (ist->current == phase::loading && !ist->waiting.empty())
      break;
  }
  REQUIRE(ist != nullptr);
  REQUIRE(ist->current == phase::loading);
  REQUIRE(ist->waiting.size() == 1);
  CHECK_FALSE(ist->expiry_armed);
  std::this_thread::sleep_for(5ms); // the deadline passes while the load is under way
  auto r = fx.await(std::move(late));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::timeout);
  // Nothing was written for it, and the next command runs on the loaded state.
  REQUIRE(fx.await(fx->send<bank::account>("a", bank::deposit{2})));
  CHECK(balance_of(fx, "a") == 2);
}

TEST_CASE("activations that find their streams hand the next loads straight to the loaders, "
          "and a new stream after them still starts from nothing",
          "[testing][fixture][deterministic][passivation]") {
  // W4 (1 M aggregates, 100 k live): every activation read its stream's head on the
  // scheduler's thread to spot a new stream, then the loaders read it again.
  runtime_fixture fx{one_live_account(256, false)};
  REQUIRE(fx.await(fx->send<bank::account>("a", bank::open{"ann"})));
  REQUIRE(fx.await(fx->send<bank::account>("b", bank::open{"bob"})));
  auto& st = bank_router(fx);
  auto& guess = *st.ctx->new_streams;
  CHECK(guess.likely_new()); // two new streams
  for (int i = 0; i < 8; ++i) // each activation passivates the other account
    REQUIRE(fx.await(fx->send<bank::account>(i % 2 ? "b" : "a", bank::deposit{1})));
  CHECK_FALSE(guess.likely_new());
  // A new stream now goes to the loaders too: its instance is loading, not running.
  auto opened = fx->send<bank::account>("z", bank::open{"zoe"});
  using phase = detail::instance_state<bank::account>::phase;
  bool loading = false;
  for (int i = 0; i < 100 && !loading && fx.step(); ++i) {
    auto e = st.instances.find("z");
    loading = e != st.instances.end() && account_instance(e->second.instance).current == phase::loading;
  }
  CHECK(loading);
  REQUIRE(fx.await(std::move(opened)));
  CHECK(balance_of(fx, "z") == 0);
  // New streams turn the guess back.
  for (int i = 0; i < 4; ++i)
    REQUIRE(fx.await(fx->send<bank::account>("n" + std::to_string(i), bank::open{"new"})));
  CHECK(guess.likely_new());
  CHECK(balance_of(fx, "a") == 4);
  CHECK(balance_of(fx, "b") == 4);
}

TEST_CASE("crash_and_reopen in deterministic mode keeps what was committed",
          "[testing][fixture][deterministic][crash]") {
  runtime_fixture fx{deterministic(setup_bank)};
  REQUIRE(fx.await(fx->send<bank::account>("a", bank::open{"ann"})));
  REQUIRE(fx.await(fx->send<bank::account>("a", bank::deposit{10})));
  auto lost = fx->send<bank::account>("a", bank::deposit{5}); // queued, never run
  REQUIRE(fx.crash_and_reopen());
  auto r = lost.get(); // the crashed runtime answered it while stopping
  REQUIRE_FALSE(r);
  CHECK(balance_of(fx, "a") == 10);
  REQUIRE(fx.await(fx->send<bank::account>("a", bank::deposit{1})));
  CHECK(balance_of(fx, "a") == 11);
}

TEST_CASE("await answers timeout when the command cannot be answered without the clock",
          "[testing][fixture][deterministic]") {
  runtime_fixture fx{deterministic(setup_bank)};
  REQUIRE(fx.await(fx->send<bank::account>("a", bank::open{"ann"})));
  std::promise<command_result> never;
  auto r = fx.await(never.get_future());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::timeout);
}

} // namespace deterministic_mode_cases
