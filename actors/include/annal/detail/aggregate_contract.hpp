// Internal: the aggregate contract (see aggregate_traits.hpp) checked at compile time, so
// that a definition missing a piece fails with a sentence naming it instead of pages of
// template errors.
#pragma once

#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "annal/decision.hpp"
#include "annal/event_traits.hpp"

namespace annal::detail {

template <class A, class = void>
struct has_state_type : std::false_type {};
template <class A>
struct has_state_type<A, std::void_t<typename A::state>> : std::true_type {};

template <class A, class = void>
struct has_command_type : std::false_type {};
template <class A>
struct has_command_type<A, std::void_t<typename A::command>> : std::true_type {};

template <class A, class = void>
struct has_event_type_alias : std::false_type {};
template <class A>
struct has_event_type_alias<A, std::void_t<typename A::event>> : std::true_type {};

template <class A, class = void>
struct has_category : std::false_type {};
template <class A>
struct has_category<A, std::void_t<decltype(std::string_view{A::category})>> : std::true_type {};

template <class A, class = void>
struct has_decide : std::false_type {};
template <class A>
struct has_decide<A, std::enable_if_t<std::is_convertible_v<
                       decltype(A::decide(std::declval<const typename A::state&>(),
                                          std::declval<const typename A::command&>())),
                       decision<typename A::event>>>> : std::true_type {};

// evolve(state&, const event&) -> void, or evolve(state, const event&) -> state.
template <class A, class = void>
struct has_evolve_in_place : std::false_type {};
template <class A>
struct has_evolve_in_place<A, std::enable_if_t<std::is_void_v<decltype(A::evolve(
                                std::declval<typename A::state&>(), std::declval<const typename A::event&>()))>>>
    : std::true_type {};
template <class A, class = void>
struct has_evolve_by_value : std::false_type {};
template <class A>
struct has_evolve_by_value<A, std::enable_if_t<std::is_convertible_v<
                                decltype(A::evolve(std::declval<typename A::state>(),
                                                   std::declval<const typename A::event&>())),
                                typename A::state>>> : std::true_type {};
template <class A>
struct has_evolve : std::disjunction<has_evolve_in_place<A>, has_evolve_by_value<A>> {};

template <class E>
struct events_named : has_event_type<E> {};
template <class... Es>
struct events_named<std::variant<Es...>> : std::conjunction<has_event_type<Es>...> {};

/// Instantiating aggregate_contract<A> checks A, one readable sentence per missing piece.
template <class A>
struct aggregate_contract {
  static_assert(has_state_type<A>::value,
                "an aggregate needs `using state = ...;` (its cereal-serializable state type)");
  static_assert(has_command_type<A>::value,
                "an aggregate needs `using command = ...;` (a command type or a std::variant of them)");
  static_assert(has_event_type_alias<A>::value,
                "an aggregate needs `using event = ...;` (an event type or a std::variant of them)");
  static_assert(has_category<A>::value,
                "an aggregate needs `static constexpr std::string_view category = \"...\";` "
                "(its streams are \"<category>-<id>\")");
  static constexpr bool types_ok = has_state_type<A>::value && has_command_type<A>::value
                                   && has_event_type_alias<A>::value;
  static_assert(!types_ok || has_decide<A>::value,
                "an aggregate needs `static annal::decision<event> decide(const state&, const command&);`");
  static_assert(!types_ok || has_evolve<A>::value,
                "an aggregate needs `static state evolve(state, const event&);` or "
                "`static void evolve(state&, const event&);`");
};

// events_named needs A::event: checked apart so that a missing alias reports only once.
template <class A, bool = has_event_type_alias<A>::value>
struct aggregate_events_contract {};
template <class A>
struct aggregate_events_contract<A, true> {
  static_assert(events_named<typename A::event>::value,
                "every event type of an aggregate needs a stable name: "
                "`static constexpr std::string_view event_type = \"...\";` "
                "(or a specialization of annal::event_traits)");
};

} // namespace annal::detail
