// annal::result<T>: a value or an annal::error, in the spirit of std::expected (C++23).
#pragma once

#include <cassert>
#include <optional>
#include <utility>
#include <variant>

#include "annal/error.hpp"

namespace annal {

/// Holds a T on success or an annal::error on failure. Accessing the value of a
/// failed result (or the error of a successful one) is a precondition violation.
/// Thread safety: a value type; distinct objects may be used from distinct threads.
template <class T>
class [[nodiscard]] result {
public:
  using value_type = T;

  result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  result(annal::error err) : state_(std::in_place_index<1>, std::move(err)) {}

  /// True when the result holds a value.
  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  /// The value. REQUIRES: has_value().
  T& value() & { assert(has_value()); return *std::get_if<0>(&state_); }
  const T& value() const& { assert(has_value()); return *std::get_if<0>(&state_); }
  T&& value() && { assert(has_value()); return std::move(*std::get_if<0>(&state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The value, or `fallback` when the result holds an error.
  T value_or(T fallback) const& { return has_value() ? *std::get_if<0>(&state_) : fallback; }

  /// The error. REQUIRES: !has_value().
  const annal::error& error() const& { assert(!has_value()); return *std::get_if<1>(&state_); }
  annal::error&& error() && { assert(!has_value()); return std::move(*std::get_if<1>(&state_)); }

  /// The error code, or no value when the result holds a value.
  std::optional<errc> code() const noexcept {
    if (has_value()) return std::nullopt;
    return std::get_if<1>(&state_)->code;
  }

private:
  std::variant<T, annal::error> state_;
};

/// The outcome of an operation without a value: success, or an error.
template <>
class [[nodiscard]] result<void> {
public:
  using value_type = void;

  result() = default;
  result(annal::error err) : error_(std::move(err)) {}

  bool has_value() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }

  /// The error. REQUIRES: !has_value().
  const annal::error& error() const& { assert(!has_value()); return *error_; }
  annal::error&& error() && { assert(!has_value()); return std::move(*error_); }

  std::optional<errc> code() const noexcept {
    if (has_value()) return std::nullopt;
    return error_->code;
  }

private:
  std::optional<annal::error> error_;
};

/// Shorthand for an operation that succeeds without a value.
using status = result<void>;

} // namespace annal
