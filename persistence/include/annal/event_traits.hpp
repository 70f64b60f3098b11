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

/// Stable name and current schema version of an event or state type.
template <class T>
struct event_traits {
  static constexpr std::string_view name = T::event_type;
  static constexpr uint32_t schema_version = [] {
    if constexpr (detail::has_schema_version<T>::value)
      return static_cast<uint32_t>(T::schema_version);
    else
      return uint32_t{1};
  }();
};

} // namespace annal
