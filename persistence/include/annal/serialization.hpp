// Turning user types (events, states, commands) into bytes and JSON and back with cereal.
// No exception escapes: failures are annal::error values.
#pragma once

#include <cereal/archives/json.hpp>

#include <exception>
#include <sstream>
#include <string>
#include <string_view>

#include "annal/binary_archive.hpp"
#include "annal/result.hpp"

namespace annal {

/// Appends the cereal binary form of `value` to `out`. Errors (a throwing serialize
/// function): bad_request; `out` is then restored to its former size.
template <class T>
status append_bytes(const T& value, std::string& out) {
  auto old_size = out.size();
  try {
    binary_output_archive ar{out};
    ar(value);
    return {};
  } catch (const std::exception& e) {
    out.resize(old_size);
    return make_error(errc::bad_request, std::string{"cannot serialize: "} + e.what());
  }
}

/// The cereal binary form of `value`.
template <class T>
result<std::string> to_bytes(const T& value) {
  std::string out;
  if (auto ok = append_bytes(value, out); !ok)
    return std::move(ok).error();
  return out;
}

/// Decodes a T from `bytes`. Errors: corrupt when the bytes are truncated, too long or
/// otherwise do not decode into a T (never a crash, never an unbounded allocation).
template <class T>
result<T> from_bytes(std::string_view bytes) {
  try {
    T value{};
    binary_input_archive ar{bytes};
    ar(value);
    if (ar.remaining() != 0)
      return make_error(errc::corrupt, std::to_string(ar.remaining())
                                         + " trailing bytes after the value");
    return value;
  } catch (const std::exception& e) {
    return make_error(errc::corrupt, std::string{"cannot decode: "} + e.what());
  }
}

/// Removes the layout whitespace of cereal's JSON output (it escapes newlines inside
/// strings, so raw ones are formatting) and unwraps the {"value": ...} envelope.
std::string compact_cereal_json(std::string text);

/// Renders `value` as JSON through cereal's JSON archive (field names come from
/// CEREAL_NVP / cereal::make_nvp in the type's serialize function).
template <class T>
result<std::string> to_json(const T& value) {
  try {
    std::ostringstream os;
    {
      cereal::JSONOutputArchive ar{os, cereal::JSONOutputArchive::Options(
                                         324, cereal::JSONOutputArchive::Options::IndentChar::space, 0)};
      ar(cereal::make_nvp("value", value));
    }
    return compact_cereal_json(os.str());
  } catch (const std::exception& e) {
    return make_error(errc::bad_request, std::string{"cannot render JSON: "} + e.what());
  }
}

} // namespace annal
