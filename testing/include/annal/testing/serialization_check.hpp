// Serialization checks for an aggregate's stored types, in the spirit of Akka's
// serialization test kit: every event (and the state, stored as snapshots) must survive
// encode -> registry decode -> encode unchanged, and the bytes of an old schema version
// must upcast to the value the current code expects.
//
//   REQUIRE(annal::testing::events_round_trip<account>());            // one of each type
//   REQUIRE(annal::testing::events_round_trip<account>({deposited{5}}));
//   REQUIRE(annal::testing::snapshot_round_trips<account>(some_state));
//   REQUIRE(annal::testing::upcasts_to<account>(reg, "bank.opened", 1, old_bytes, opened{"x"}));
//
// Values are compared with their operator== when they have one, else by their cereal bytes.
#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "annal/aggregate_traits.hpp"
#include "annal/event_registry.hpp"
#include "annal/serialization.hpp"
#include "annal/testing/decider_spec.hpp"
#include "annal/testing/detail/compare.hpp"

namespace annal::testing {

namespace detail {

template <class V, std::size_t... Is>
std::vector<V> defaults_of_each(std::index_sequence<Is...>) {
  std::vector<V> out;
  (
    [&] {
      using alt = std::variant_alternative_t<Is, V>;
      if constexpr (std::is_default_constructible_v<alt>)
        out.emplace_back(std::in_place_index<Is>);
    }(),
    ...);
  return out;
}

} // namespace detail

/// A default-constructed value of every event type of A (the alternatives of its event
/// variant that are default-constructible).
template <class A>
std::vector<typename A::event> one_event_of_each_type() {
  using event = typename A::event;
  if constexpr (annal::detail::is_variant<event>::value)
    return detail::defaults_of_each<event>(std::make_index_sequence<std::variant_size_v<event>>{});
  else
    return {event{}};
}

/// Every event of `samples` (default: one of each type) is registered under its name,
/// decodes through `reg` (A's types registered when it holds none of them) and encodes
/// back to the same bytes.
template <class A>
spec_result events_round_trip(std::vector<typename A::event> samples = one_event_of_each_type<A>(),
                              const event_registry* reg = nullptr) {
  using traits = aggregate_traits<A>;
  event_registry own;
  if (reg == nullptr) {
    traits::register_events(own);
    reg = &own;
  }
  for (const auto& e : samples) {
    auto name = std::string{traits::event_name(e)};
    if (!reg->contains(name))
      return spec_result::fail("event type " + name + " is not registered");
    std::string bytes;
    if (auto ok = traits::encode(e, bytes); !ok)
      return spec_result::fail(name + " does not encode: " + ok.error().message);
    auto back = traits::decode(*reg, name, traits::event_schema(e), bytes, false);
    if (!back)
      return spec_result::fail(name + " does not decode: " + back.error().message);
    if (traits::event_name(*back) != name)
      return spec_result::fail(name + " decodes as " + std::string{traits::event_name(*back)});
    std::string again;
    if (auto ok = traits::encode(*back, again); !ok)
      return spec_result::fail(name + " does not encode after decoding: " + ok.error().message);
    bool same = again == bytes;
    // With operator== a codec that loses a field symmetrically is caught too.
    if constexpr (detail::has_equal<typename A::event>::value)
      same = same && *back == e;
    if (!same)
      return spec_result::fail(name + " changes in a round trip: " + detail::describe<A>(e)
                               + " came back as " + detail::describe<A>(*back));
  }
  return spec_result::pass();
}

/// A's state survives the snapshot codec: the decoded state equals it (operator== when
/// the state has one: a hashed container's bytes may come back in another order), else
/// encode -> decode -> encode gives the same bytes.
template <class A>
spec_result snapshot_round_trips(const typename A::state& s) {
  auto bytes = to_bytes(s);
  if (!bytes)
    return spec_result::fail("the state does not encode: " + bytes.error().message);
  auto back = from_bytes<typename A::state>(*bytes);
  if (!back)
    return spec_result::fail("the state does not decode: " + back.error().message);
  if (!detail::same_value(*back, s)) {
    auto json = annal::to_json(s);
    return spec_result::fail("the state changes in a round trip: " + (json ? *json : "<unrenderable>"));
  }
  return spec_result::pass();
}

/// The bytes `old_payload` of `type` at `old_version` decode through `reg` (its
/// upcasters) to `expected`.
template <class A>
spec_result upcasts_to(const event_registry& reg, const std::string& type, uint32_t old_version,
                       const std::string& old_payload, const typename A::event& expected) {
  using traits = aggregate_traits<A>;
  auto back = traits::decode(reg, type, old_version, old_payload, false);
  if (!back)
    return spec_result::fail(type + " v" + std::to_string(old_version)
                             + " does not upcast: " + back.error().message);
  if (detail::fingerprint<A>(*back) != detail::fingerprint<A>(expected))
    return spec_result::fail(type + " v" + std::to_string(old_version) + " upcasts to "
                             + detail::describe<A>(*back) + ", expected "
                             + detail::describe<A>(expected));
  return spec_result::pass();
}

} // namespace annal::testing
