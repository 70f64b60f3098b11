// Internal: reading typed fields of a JSON request body. Each getter returns the error to
// answer, or none; none of them throws.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "shop/http/api_error.hpp"

namespace shop::http::detail {

using json = nlohmann::json;
using maybe_error = std::optional<api_error>;

/// Parses `body` as a JSON object; an empty body counts as {}.
maybe_error parse_object(std::string_view body, json& out);

/// A string field of at most `max_bytes` (1 at least when `required`, which also makes
/// its absence an error; an absent optional field leaves `out` unchanged).
maybe_error get_string(const json& obj, const char* name, bool required, std::size_t max_bytes,
                       std::string& out);

/// An identifier field (valid_id: 1-64 characters of [A-Za-z0-9._-]).
maybe_error get_id(const json& obj, const char* name, bool required, std::string& out);

/// A required integer field within [min, max]: a float, a string or a boolean is an error
/// (money is integer cents).
maybe_error get_int(const json& obj, const char* name, int64_t min, int64_t max, int64_t& out);

/// An integer JSON value within [min, max]; `what` names it in the message.
maybe_error as_int(const json& value, const std::string& what, int64_t min, int64_t max,
                   int64_t& out);

} // namespace shop::http::detail
