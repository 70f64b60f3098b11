// Value comparison and rendering shared by the test kit's specs.
#pragma once

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include <cereal/archives/json.hpp>

#include "annal/serialization.hpp"

namespace annal::testing::detail {

template <class T, class = void>
struct has_equal : std::false_type {};
template <class T>
struct has_equal<T, std::void_t<decltype(std::declval<const T&>() == std::declval<const T&>())>>
  : std::true_type {};
// std::variant declares operator== for any alternatives: look at the alternatives.
template <class... Ts>
struct has_equal<std::variant<Ts...>> : std::conjunction<has_equal<Ts>...> {};

/// Equality of two values: operator== when there is one, else equal cereal bytes.
template <class T>
bool same_value(const T& a, const T& b) {
  if constexpr (has_equal<T>::value) {
    return static_cast<bool>(a == b);
  } else {
    auto x = to_bytes(a);
    auto y = to_bytes(b);
    return x && y && *x == *y;
  }
}

/// JSON of a value, or a placeholder when it has none.
template <class T>
std::string show(const T& value) {
  if constexpr (cereal::traits::is_output_serializable<T, cereal::JSONOutputArchive>::value) {
    auto json = annal::to_json(value);
    return json ? *json : "<unrenderable>";
  } else {
    (void)value;
    return "<no JSON form>";
  }
}

} // namespace annal::testing::detail
