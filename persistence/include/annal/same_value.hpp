// Whether two values of a user type (a state, an event) are the same: by the type's
// operator== when it has one, else by their cereal bytes. Hashed containers need the
// former: their bytes follow the order their elements were inserted in, so equal values
// (a state restored from a snapshot, the same state rebuilt by a replay) may serialize
// differently.
#pragma once

#include <type_traits>
#include <utility>
#include <variant>

#include "annal/serialization.hpp"

namespace annal {

namespace detail {

template <class T, class = void>
struct has_equal : std::false_type {};
template <class T>
struct has_equal<T, std::void_t<decltype(std::declval<const T&>() == std::declval<const T&>())>>
  : std::true_type {};
// std::variant declares operator== for any alternatives: look at the alternatives.
template <class... Ts>
struct has_equal<std::variant<Ts...>> : std::conjunction<has_equal<Ts>...> {};

} // namespace detail

/// True when `a` and `b` are the same value: operator== when T has one, else equal cereal
/// bytes (false when either does not serialize).
template <class T>
bool same_value(const T& a, const T& b) {
  if constexpr (detail::has_equal<T>::value) {
    return static_cast<bool>(a == b);
  } else {
    auto x = to_bytes(a);
    auto y = to_bytes(b);
    return x && y && *x == *y;
  }
}

} // namespace annal
