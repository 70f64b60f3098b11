// The exit codes of `annal` (documented in docs/cli.md) and the failure value every
// command returns instead of throwing.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "annal/error.hpp"

namespace annal::cli {

/// What the process tells its caller; scripts branch on these, so they never change.
enum class exit_code : int {
  /// Done; for verify: no problem found.
  ok = 0,
  /// verify found problems, or the operation failed (I/O error, unknown stream, ...).
  failed = 1,
  /// The command line is wrong (unknown option, missing argument, bad value).
  usage = 2,
  /// No data folder, not an Annal store, or a store of a format this build does not read.
  no_store = 3,
  /// Another process has the store open and the command needs it to itself.
  locked = 4,
};

/// A command's failure: its exit code and one line for the operator (no trailing newline).
struct failure {
  exit_code code = exit_code::failed;
  std::string message;
};

/// Maps a library error met while opening or reading a store to an exit code: corrupt
/// (not an Annal store, another format) and not_found become no_store; the rest failed.
failure store_failure(const error& e);

/// An operation that failed for another reason than the store itself.
inline failure operation_failure(std::string message) {
  return failure{exit_code::failed, std::move(message)};
}

/// A value or the failure that prevented it (annal::result, with a failure for the error).
template <class T>
class [[nodiscard]] outcome {
public:
  outcome(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  outcome(failure f) : state_(std::in_place_index<1>, std::move(f)) {}

  explicit operator bool() const noexcept { return state_.index() == 0; }
  /// REQUIRES: the outcome holds a value.
  T& operator*() { assert(*this); return *std::get_if<0>(&state_); }
  T* operator->() { return &**this; }
  /// REQUIRES: the outcome holds a failure.
  const failure& error() const { assert(!*this); return *std::get_if<1>(&state_); }

private:
  std::variant<T, failure> state_;
};

} // namespace annal::cli
