// The examples of docs/testing.md, compiled and run (keep the two in sync).
#include <catch2/catch.hpp>

#include <cereal/types/map.hpp>

#include <chrono>
#include <future>
#include <map>
#include <string>

#include "annal/event_handlers.hpp"
#include "annal/testing/projection_spec.hpp"
#include "annal/testing/runtime_fixture.hpp"
#include "annal/testing/serialization_check.hpp"
#include "bank_account.hpp"

namespace docs_examples_cases {

TEST_CASE("docs/testing.md: a fault, a crash and a reopen in one test", "[testing][docs]") {
  annal::testing::runtime_fixture fx{[](annal::runtime& rt) {
    return rt.register_aggregate<bank::account>();
  }};
  REQUIRE(fx->send<bank::account>("7", bank::open{"ann"}).get());

  fx.faults().fail_streams("account-7", annal::errc::storage_full);
  auto refused = fx->send<bank::account>("7", bank::deposit{5}).get();
  REQUIRE(refused.error().code == annal::errc::storage_full);
  fx.faults().clear();

  REQUIRE(fx->send<bank::account>("7", bank::deposit{5}).get());
  REQUIRE(fx.crash_and_reopen());
  REQUIRE(fx->load<bank::account>("7")->state.balance == 5);
}

TEST_CASE("docs/testing.md: the deterministic mode", "[testing][docs][deterministic]") {
  annal::testing::fixture_options o;
  o.deterministic = true;
  o.setup = [](annal::runtime& rt) { return rt.register_aggregate<bank::account>(); };
  annal::testing::runtime_fixture fx{o};
  auto f = fx->send<bank::account>("a", bank::open{"ann"}); // queued at the router, not run
  while (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    REQUIRE(fx.step());                                    // one message of one actor
  REQUIRE(fx.await(fx->send<bank::account>("a", bank::deposit{5}))); // steps until answered
  fx.run();                                                // until nothing is queued
  fx.advance_time(std::chrono::hours(1));                  // ticks, deadlines, timers due
  REQUIRE(f.get());
  REQUIRE(fx->load<bank::account>("a")->state.balance == 5);
}

TEST_CASE("docs/testing.md: a projection spec", "[testing][docs]") {
  using balances = std::map<std::string, int64_t>;
  annal::event_registry reg;
  annal::aggregate_traits<bank::account>::register_events(reg);
  auto handlers = annal::event_handlers<balances>{reg}.on<bank::deposited>(
    [](balances& b, const annal::event_context& c, const bank::deposited& d) {
      b[std::string{c.aggregate_id}] += d.amount;
    });

  auto spec = annal::testing::projection_spec<balances>{handlers}
                .given<bank::account>("7", {bank::opened{"ann"}, bank::deposited{5}});
  REQUIRE(spec.then_model(balances{{"7", 5}}));
  REQUIRE(spec.replays_equal());
}

TEST_CASE("docs/testing.md: serialization checks", "[testing][docs]") {
  REQUIRE(annal::testing::events_round_trip<bank::account>());
  REQUIRE(annal::testing::snapshot_round_trips<bank::account>(bank::state{true, "ann", 5, 1}));
}

} // namespace docs_examples_cases
