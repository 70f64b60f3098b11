// Value comparison and rendering shared by the test kit's specs.
#pragma once

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include <cereal/archives/json.hpp>

#include "annal/same_value.hpp"
#include "annal/serialization.hpp"

namespace annal::testing::detail {

// Equality of two values: operator== when there is one, else equal cereal bytes.
using annal::same_value;
using annal::detail::has_equal;

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
