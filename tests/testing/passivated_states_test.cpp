// The states passivated instances leave behind (passivated_states.hpp): an activation
// starts from its aggregate's kept state and reads only the events after it; the journal
// still decides (appends from elsewhere, deletions), and a shard move drops them.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "annal/aggregate_traits.hpp"
#include "annal/detail/aggregate_router.hpp"
#include "annal/detail/atoms.hpp"
#include "annal/detail/passivated_states.hpp"
#include "annal/serialization.hpp"
#include "annal/testing/runtime_fixture.hpp"
#include "bank_account.hpp"
#include "bank_fixture_views.hpp"

namespace passivated_states_cases {

using namespace annal;
using annal::testing::fixture_options;
using annal::testing::runtime_fixture;
using bank_fixture_views::balance_of;
using bank_fixture_views::bank_router;

namespace {

// Bank accounts with one live instance: each activation passivates the other account.
fixture_options one_live_account(std::size_t kept_bytes = std::size_t{1} << 20) {
  fixture_options o;
  o.deterministic = true;
  o.setup = [kept_bytes](runtime& rt) {
    aggregate_options a;
    a.max_live = 1;
    a.passivated_state_bytes = kept_bytes;
    return rt.register_aggregate<bank::account>(a);
  };
  return o;
}

detail::passivated_states& kept(runtime_fixture& fx) {
  return *bank_router(fx).ctx->passivated;
}

std::string stream_of(const std::string& id) {
  return aggregate_traits<bank::account>::stream_id(id);
}

// Opens "a" with `deposits` deposits of 1, then opens "b", which passivates "a".
void open_a_then_b(runtime_fixture& fx, int deposits) {
  REQUIRE(fx.await(fx->send<bank::account>("a", bank::open{"ann"})));
  for (int i = 0; i < deposits; ++i)
    REQUIRE(fx.await(fx->send<bank::account>("a", bank::deposit{1})));
  REQUIRE(fx.await(fx->send<bank::account>("b", bank::open{"bob"})));
  fx.run();
}

// Steps until `f` is ready; the steps it took.
std::size_t steps_until(runtime_fixture& fx, std::future<command_result>& f) {
  std::size_t steps = 0;
  while (f.wait_for(std::chrono::seconds{0}) != std::future_status::ready && steps < 10000) {
    REQUIRE(fx.step());
    ++steps;
  }
  return steps;
}

} // namespace

TEST_CASE("an aggregate activated again starts from the state its passivation left, without a "
          "trip to the loaders",
          "[aggregate][passivation][kept_states]") {
  runtime_fixture fx{one_live_account()};
  open_a_then_b(fx, 3);
  CHECK(kept(fx).size() == 1); // a's
  auto f = fx->send<bank::account>("a", bank::deposit{10});
  auto steps = steps_until(fx, f);
  auto r = f.get();
  REQUIRE(r);
  CHECK(r->version == 5);
  CHECK(kept(fx).hits() == 1);
  CHECK(balance_of(fx, "a") == 13);
  // The same comeback without kept states takes the loaders' round trip: more steps.
  runtime_fixture plain{one_live_account(0)};
  open_a_then_b(plain, 3);
  auto g = plain->send<bank::account>("a", bank::deposit{10});
  auto plain_steps = steps_until(plain, g);
  REQUIRE(g.get());
  CHECK(plain_steps > steps);
  CHECK(balance_of(plain, "a") == 13);
}

TEST_CASE("events appended while an aggregate was passivated are applied on top of the state it "
          "left",
          "[aggregate][passivation][kept_states]") {
  runtime_fixture fx{one_live_account()};
  open_a_then_b(fx, 2); // a at version 3, balance 2
  REQUIRE(kept(fx).size() == 1);
  auto payload = to_bytes(bank::deposited{40});
  REQUIRE(payload);
  new_event e;
  e.type = "bank.deposited";
  e.payload = *payload;
  REQUIRE(fx->store().append(stream_of("a"), expected_version::exact(3), {e}));
  auto r = fx.await(fx->send<bank::account>("a", bank::deposit{1}));
  REQUIRE(r);
  CHECK(r->version == 5); // after the one appended behind its back
  CHECK(kept(fx).hits() == 1);
  CHECK(balance_of(fx, "a") == 43);
  // The live instance holds it too: a withdrawal of all of it passes.
  CHECK(fx.await(fx->send<bank::account>("a", bank::withdraw{43})));
}

TEST_CASE("a stream deleted while its aggregate was passivated is not brought back by the state "
          "it left",
          "[aggregate][passivation][kept_states]") {
  runtime_fixture fx{one_live_account()};
  open_a_then_b(fx, 1);
  REQUIRE(kept(fx).size() == 1);
  REQUIRE(fx->store().delete_stream(stream_of("a")));
  auto r = fx.await(fx->send<bank::account>("a", bank::deposit{1}));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::stream_deleted);
  auto head = fx->store().stream_head(stream_of("a"));
  REQUIRE(head);
  CHECK(head->head == 2); // nothing written
}

TEST_CASE("a repeated command id after a comeback from a kept state is answered as a duplicate "
          "and writes nothing",
          "[aggregate][passivation][kept_states]") {
  runtime_fixture fx{one_live_account()};
  REQUIRE(fx.await(fx->send<bank::account>("a", bank::open{"ann"})));
  command_options once;
  once.command_id = "pay-1";
  auto first = fx.await(fx->send<bank::account>("a", bank::deposit{5}, once));
  REQUIRE(first);
  REQUIRE(fx.await(fx->send<bank::account>("b", bank::open{"bob"})));
  fx.run();
  REQUIRE(kept(fx).size() == 1);
  auto again = fx.await(fx->send<bank::account>("a", bank::deposit{5}, once));
  REQUIRE(again);
  CHECK(again->duplicate);
  CHECK(again->version == first->version);
  CHECK(again->position == first->position);
  CHECK(kept(fx).hits() == 1);
  CHECK(balance_of(fx, "a") == 5);
}

TEST_CASE("a shard move drops the kept states, and the instances it passivates keep none",
          "[aggregate][passivation][kept_states][cluster]") {
  runtime_fixture fx{one_live_account()};
  open_a_then_b(fx, 1); // a kept, b live
  REQUIRE(kept(fx).size() == 1);
  auto router = fx->router<bank::account>();
  REQUIRE(router);
  // Every shard of b's stream's count: the move covers b (live) and a (kept) alike.
  uint16_t count = 1;
  caf::anon_send(*router, detail::forget_atom::value, uint16_t{0}, count);
  fx.run();
  CHECK(bank_router(fx).live == 0);
  CHECK(kept(fx).size() == 0); // neither a's nor b's, passivated by the move
  REQUIRE(fx.await(fx->send<bank::account>("a", bank::deposit{1})));
  REQUIRE(fx.await(fx->send<bank::account>("b", bank::deposit{1})));
  CHECK(kept(fx).hits() == 0); // both loaded from the journal
  CHECK(balance_of(fx, "a") == 2);
  CHECK(balance_of(fx, "b") == 1);
}

TEST_CASE("kept states stay within their byte budget, the least recently passivated dropped first",
          "[aggregate][passivation][kept_states]") {
  detail::passivated_states states{4096};
  auto state_of = [](std::size_t bytes) {
    detail::passivated_state s;
    s.version = 1;
    s.bytes.assign(bytes, 'x');
    return s;
  };
  for (int i = 0; i < 40; ++i)
    states.put("s" + std::to_string(i), state_of(100), states.epoch());
  CHECK(states.bytes() <= 4096);
  CHECK(states.size() >= 10);
  CHECK(states.size() < 40);
  CHECK_FALSE(states.take("s0"));  // the oldest went first
  CHECK(states.take("s39"));       // the newest stayed
  CHECK_FALSE(states.take("s39")); // taken: an activation owns it now
  states.put("huge", state_of(5000), states.epoch());
  CHECK_FALSE(states.take("huge")); // larger than the whole budget
  // A state loaded before a clear is not put back after it.
  auto before = states.epoch();
  states.clear();
  CHECK(states.size() == 0);
  states.put("late", state_of(10), before);
  CHECK_FALSE(states.take("late"));
  detail::passivated_states none{0};
  CHECK_FALSE(none.enabled());
  none.put("s", state_of(1), none.epoch());
  CHECK(none.size() == 0);
}

} // namespace passivated_states_cases
