// A given/when/then test kit for deciders, in the spirit of Axon's AggregateTestFixture and
// Akka's EventSourcedBehaviorTestKit. Pure: no actors, no store; works with any test
// framework because each check returns a spec_result (true, or false with a message).
//
//   using annal::testing::given;
//   REQUIRE(given<account>({opened{"ann"}}).when(deposit{5}).then_events({deposited{5}}));
//   REQUIRE(given<account>({}).when(deposit{5}).then_rejected("not open"));
//   REQUIRE(annal::testing::snapshot_round_trip_matches_replay<account>(events));
//
// Events are compared by their cereal bytes (no operator== needed) and shown as JSON when
// they differ; states by their operator== when they have one (same_value.hpp).
#pragma once

#include <optional>
#include <ostream>
#include <variant>
#include <string>
#include <vector>

#include "annal/aggregate_traits.hpp"
#include "annal/same_value.hpp"
#include "annal/serialization.hpp"

namespace annal::testing {

/// The outcome of a check: converts to true on success; message() says what differed.
class spec_result {
public:
  static spec_result pass() { return spec_result{true, {}}; }
  static spec_result fail(std::string why) { return spec_result{false, std::move(why)}; }
  explicit operator bool() const noexcept { return ok_; }
  const std::string& message() const noexcept { return message_; }
  /// Lets Catch2 / doctest print the reason of a failed REQUIRE.
  friend std::ostream& operator<<(std::ostream& os, const spec_result& r) {
    return os << (r.ok_ ? "passed" : r.message_);
  }

private:
  spec_result(bool ok, std::string message) : ok_(ok), message_(std::move(message)) {}
  bool ok_;
  std::string message_;
};

namespace detail {

template <class A>
std::string describe(const typename A::event& e) {
  std::string out{aggregate_traits<A>::event_name(e)};
  if constexpr (annal::detail::is_variant<typename A::event>::value) {
    auto json = std::visit([](const auto& x) { return annal::to_json(x); }, e);
    out += json ? " " + *json : " <unrenderable>";
  } else {
    auto json = annal::to_json(e);
    out += json ? " " + *json : " <unrenderable>";
  }
  return out;
}

template <class A>
std::string fingerprint(const typename A::event& e) {
  std::string bytes{aggregate_traits<A>::event_name(e)};
  bytes += '\0';
  (void)aggregate_traits<A>::encode(e, bytes);
  return bytes;
}

template <class A>
std::string describe_all(const std::vector<typename A::event>& es) {
  std::string out = "[";
  for (std::size_t i = 0; i < es.size(); ++i)
    out += (i ? ", " : "") + describe<A>(es[i]);
  return out + "]";
}

} // namespace detail

/// The "when" stage: the decision of one command against the given state.
template <class A>
class when_stage {
public:
  using event = typename A::event;

  when_stage(typename A::state s, decision<event> d, std::optional<std::string> thrown)
    : state_(std::move(s)), decision_(std::move(d)), thrown_(std::move(thrown)) {}

  /// The command produced exactly `expected`, in order.
  spec_result then_events(const std::vector<event>& expected) const {
    if (auto err = not_accepted())
      return *err;
    const auto& got = decision_.events();
    bool same = got.size() == expected.size();
    for (std::size_t i = 0; same && i < got.size(); ++i)
      same = detail::fingerprint<A>(got[i]) == detail::fingerprint<A>(expected[i]);
    if (same)
      return spec_result::pass();
    return spec_result::fail("expected events " + detail::describe_all<A>(expected) + ", got "
                             + detail::describe_all<A>(got));
  }

  /// The command was accepted and produced no event.
  spec_result then_nothing() const { return then_events({}); }

  /// The command was rejected; when given, the reason contains `reason_part`.
  spec_result then_rejected(const std::string& reason_part = {}) const {
    if (thrown_)
      return spec_result::fail("decide threw: " + *thrown_);
    if (!decision_.rejected())
      return spec_result::fail("expected a rejection, got events "
                               + detail::describe_all<A>(decision_.events()));
    if (decision_.reason().find(reason_part) == std::string::npos)
      return spec_result::fail("rejected with '" + decision_.reason() + "', expected a reason containing '"
                               + reason_part + "'");
    return spec_result::pass();
  }

  /// The command was accepted and the state after its events satisfies `pred`.
  template <class Pred>
  spec_result then_state(Pred pred) const {
    if (auto err = not_accepted())
      return *err;
    auto s = state_;
    try {
      for (const auto& e : decision_.events())
        aggregate_traits<A>::apply(s, e);
    } catch (const std::exception& ex) {
      return spec_result::fail(std::string{"evolve threw: "} + ex.what());
    }
    return pred(s) ? spec_result::pass() : spec_result::fail("the resulting state does not satisfy the predicate");
  }

private:
  std::optional<spec_result> not_accepted() const {
    if (thrown_)
      return spec_result::fail("decide threw: " + *thrown_);
    if (decision_.rejected())
      return spec_result::fail("the command was rejected: " + decision_.reason());
    return std::nullopt;
  }

  typename A::state state_;
  decision<event> decision_;
  std::optional<std::string> thrown_;
};

/// The "given" stage: a state built from past events.
template <class A>
class given_stage {
public:
  explicit given_stage(typename A::state s) : state_(std::move(s)) {}

  /// Decides `cmd` against the given state.
  when_stage<A> when(const typename A::command& cmd) const {
    try {
      return when_stage<A>{state_, aggregate_traits<A>::decide(state_, cmd), std::nullopt};
    } catch (const std::exception& e) {
      return when_stage<A>{state_, {}, std::string{e.what()}};
    }
  }

  const typename A::state& state() const noexcept { return state_; }

private:
  typename A::state state_;
};

/// Starts a spec from the initial state plus `history` (evolve must not throw here).
template <class A>
given_stage<A> given(const std::vector<typename A::event>& history) {
  auto s = aggregate_traits<A>::initial_state();
  for (const auto& e : history)
    aggregate_traits<A>::apply(s, e);
  return given_stage<A>{std::move(s)};
}

/// Checks invariant 4 for one sequence: for every split point k, the state rebuilt from a
/// snapshot of the first k events (serialized and read back) plus the remaining events
/// equals the state of a full replay (same_value: the state's operator== if it has one,
/// else byte for byte).
template <class A>
spec_result snapshot_round_trip_matches_replay(const std::vector<typename A::event>& events) {
  using traits = aggregate_traits<A>;
  auto full = traits::initial_state();
  for (const auto& e : events)
    traits::apply(full, e);
  auto expected = to_bytes(full);
  if (!expected)
    return spec_result::fail("state does not serialize: " + expected.error().message);
  auto prefix = traits::initial_state();
  for (std::size_t k = 0; k <= events.size(); ++k) {
    if (k > 0)
      traits::apply(prefix, events[k - 1]);
    auto bytes = to_bytes(prefix);
    auto restored = bytes ? from_bytes<typename A::state>(*bytes)
                          : result<typename A::state>{bytes.error()};
    if (!restored)
      return spec_result::fail("snapshot at " + std::to_string(k) + " does not round-trip: "
                               + restored.error().message);
    for (std::size_t i = k; i < events.size(); ++i)
      traits::apply(*restored, events[i]);
    if (!same_value(*restored, full))
      return spec_result::fail("snapshot after " + std::to_string(k) + " events plus the tail differs from a full replay of "
                               + std::to_string(events.size()) + " events");
  }
  return spec_result::pass();
}

} // namespace annal::testing
