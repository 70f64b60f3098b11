// How Annal names a user type (event, snapshot state, command) in storage: a stable type
// name and a schema version. By default both come from static members of the type:
//
//   struct order_placed {
//     static constexpr std::string_view event_type = "OrderPlaced";
//     static constexpr uint32_t schema_version = 2;   // optional, default 1
//     ...
//   };
//
// Specialize annal::event_traits<T> for types you cannot change.
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>

namespace annal {

namespace detail {

template <class T, class = void>
struct has_schema_version : std::false_type {};
template <class T>
struct has_schema_version<T, std::void_t<decltype(T::schema_version)>> : std::true_type {};

} // namespace detail

namespace detail {

// The default traits, from T's static members; empty when T has no event_type (so that
// has_event_type below can tell).
template <class T, class = void>
struct default_event_traits {};
template <class T>
struct default_event_traits<T, std::void_t<decltype(T::event_type)>> {
  static constexpr std::string_view name = T::event_type;
  static constexpr uint32_t schema_version = [] {
    if constexpr (has_schema_version<T>::value)
      return static_cast<uint32_t>(T::schema_version);
    else
      return uint32_t{1};
  }();
};

} // namespace detail

/// Stable name (`name`) and current schema version (`schema_version`) of an event or
/// state type.
template <class T>
struct event_traits : detail::default_event_traits<T> {};

namespace detail {

// True when event_traits<T> names T (T has event_type, or event_traits<T> is specialized).
template <class T, class = void>
struct has_event_type : std::false_type {};
template <class T>
struct has_event_type<T, std::void_t<decltype(event_traits<T>::name)>> : std::true_type {};

} // namespace detail

} // namespace annal
