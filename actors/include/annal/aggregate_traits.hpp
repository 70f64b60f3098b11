// What Annal needs from an aggregate definition, and how it reaches it. An aggregate is a
// plain struct of types and static functions; nothing of CAF or LMDB appears in it:
//
//   struct account {
//     using state = account_state;                         // cereal-serializable
//     using command = std::variant<open, deposit>;         // any type(s)
//     using event = std::variant<opened, deposited>;       // each with event_type (and
//                                                          // schema_version), cereal-
//                                                          // serializable
//     static constexpr std::string_view category = "account";  // streams: "account-<id>"
//     static annal::decision<event> decide(const state&, const command&);
//     static state evolve(state, const event&);   // or: static void evolve(state&, const event&)
//     static state initial_state();               // optional; default: state{}
//     static constexpr uint32_t state_schema_version = 1;  // optional; bump to drop old
//                                                          // snapshots (full replay)
//   };
//
// A state with hashed containers (std::unordered_map, ...) should define operator==: its
// cereal bytes depend on the order its elements were inserted in, so equal states restored
// from a snapshot and rebuilt by a replay may serialize differently (see same_value.hpp).
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "annal/decision.hpp"
#include "annal/detail/aggregate_contract.hpp"
#include "annal/event_registry.hpp"
#include "annal/event_traits.hpp"
#include "annal/serialization.hpp"

namespace annal {

namespace detail {

template <class T>
struct is_variant : std::false_type {};
template <class... Ts>
struct is_variant<std::variant<Ts...>> : std::true_type {};

template <class A, class = void>
struct has_initial_state : std::false_type {};
template <class A>
struct has_initial_state<A, std::void_t<decltype(A::initial_state())>> : std::true_type {};

template <class A, class = void>
struct has_state_schema : std::false_type {};
template <class A>
struct has_state_schema<A, std::void_t<decltype(A::state_schema_version)>> : std::true_type {};

// Decodes the alternative named `type` of variant V, trying each in turn.
template <class V, std::size_t I = 0>
result<V> decode_alternative(const event_registry& reg, std::string_view type, uint32_t version,
                             std::string_view payload, bool corrupt) {
  if constexpr (I == std::variant_size_v<V>) {
    return make_error(errc::unknown_event_type,
                      "event type '" + std::string{type} + "' is not an event of this aggregate");
  } else {
    using alt = std::variant_alternative_t<I, V>;
    if (type != event_traits<alt>::name)
      return decode_alternative<V, I + 1>(reg, type, version, payload, corrupt);
    auto x = reg.decode<alt>(type, version, payload, corrupt);
    if (!x)
      return std::move(x).error();
    return V{std::in_place_index<I>, std::move(*x)};
  }
}

template <class V, std::size_t... Is>
void register_alternatives(event_registry& reg, std::index_sequence<Is...>) {
  (reg.add<std::variant_alternative_t<Is, V>>(), ...);
}

} // namespace detail

/// Uniform access to an aggregate definition A (which it checks against the contract above
/// at compile time, naming what is missing).
template <class A>
struct aggregate_traits : private detail::aggregate_contract<A>,
                          private detail::aggregate_events_contract<A> {
  using state_type = typename A::state;
  using command_type = typename A::command;
  using event_type = typename A::event;

  static std::string_view category() { return A::category; }

  /// The stream of instance `id`: "<category>-<id>".
  static std::string stream_id(std::string_view id) {
    std::string s{category()};
    s += '-';
    s += id;
    return s;
  }

  static state_type initial_state() {
    if constexpr (detail::has_initial_state<A>::value)
      return A::initial_state();
    else
      return state_type{};
  }

  /// Applies one event to `s` (user code; may throw).
  static void apply(state_type& s, const event_type& e) {
    if constexpr (std::is_void_v<decltype(A::evolve(s, e))>)
      A::evolve(s, e);
    else
      s = A::evolve(std::move(s), e);
  }

  /// Runs the decider (user code; may throw).
  static decision<event_type> decide(const state_type& s, const command_type& c) {
    return A::decide(s, c);
  }

  /// Stable type name and schema version of one event.
  static std::string_view event_name(const event_type& e) {
    if constexpr (detail::is_variant<event_type>::value)
      return std::visit([](const auto& x) { return event_traits<std::decay_t<decltype(x)>>::name; }, e);
    else
      return event_traits<event_type>::name;
  }
  static uint32_t event_schema(const event_type& e) {
    if constexpr (detail::is_variant<event_type>::value)
      return std::visit(
        [](const auto& x) { return event_traits<std::decay_t<decltype(x)>>::schema_version; }, e);
    else
      return event_traits<event_type>::schema_version;
  }

  /// Serializes the event itself (the variant's active alternative, not the variant), so
  /// the stored type name alone says how to read it back.
  static status encode(const event_type& e, std::string& out) {
    if constexpr (detail::is_variant<event_type>::value)
      return std::visit([&](const auto& x) { return append_bytes(x, out); }, e);
    else
      return append_bytes(e, out);
  }

  /// Decodes a stored event (upcasting through `reg`).
  static result<event_type> decode(const event_registry& reg, std::string_view type,
                                   uint32_t version, std::string_view payload, bool corrupt) {
    if constexpr (detail::is_variant<event_type>::value)
      return detail::decode_alternative<event_type>(reg, type, version, payload, corrupt);
    else
      return reg.decode<event_type>(type, version, payload, corrupt);
  }

  /// Registers every event type of A in `reg`.
  static void register_events(event_registry& reg) {
    if constexpr (detail::is_variant<event_type>::value)
      detail::register_alternatives<event_type>(
        reg, std::make_index_sequence<std::variant_size_v<event_type>>{});
    else
      reg.add<event_type>();
  }

  /// Type name of A's snapshots, and their schema version.
  static std::string snapshot_type() { return std::string{category()} + ".state"; }
  static uint32_t snapshot_schema() {
    if constexpr (detail::has_state_schema<A>::value)
      return static_cast<uint32_t>(A::state_schema_version);
    else
      return 1;
  }
};

} // namespace annal
