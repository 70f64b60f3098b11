// Error values shared by every layer of Annal. No exception crosses the public API:
// each fallible call returns an annal::result<T> that holds either a value or an error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "annal/expected_version.hpp"

namespace annal {

/// What went wrong, phrased by what the caller should do about it.
enum class errc : uint8_t {
  /// The expected stream version did not match: re-read the state and retry the command.
  conflict = 1,
  /// A domain rule refused the command: do not retry it unchanged.
  rejected,
  /// The entity, stream or route does not exist.
  not_found,
  /// The entity exists already: do not create it again.
  already_exists,
  /// The stream was deleted (tombstoned): reads and appends are refused for good.
  stream_deleted,
  /// The configured map-size cap or the disk is full: nothing was written.
  storage_full,
  /// The operating system or LMDB failed: retry later, check the disk.
  io_error,
  /// Stored bytes fail their checksum or do not decode: do not retry.
  corrupt,
  /// An event or snapshot type is not registered: register it (and its upcasters).
  unknown_event_type,
  /// The input is malformed: fix it; nothing was written.
  bad_request,
  /// The deadline passed before the work ran: retry if still wanted.
  timeout,
  /// The runtime is stopping or not started: retry the call later or elsewhere.
  unavailable,
  /// A bounded queue is full: back off and retry.
  overloaded,
  /// User code (decide, evolve, a projection or process-manager handler) threw: a bug in
  /// that code, not a domain refusal; do not retry unchanged, fix the code.
  handler_fault,
};

/// Returns the stable snake_case name of `code` (e.g. "conflict").
std::string_view to_string(errc code) noexcept;

/// True when retrying the same call later may succeed (storage_full, io_error, timeout,
/// unavailable, overloaded); false for answers that stand (a refusal, bad input, a missing
/// or damaged stream, an unregistered type).
bool is_transient(errc code) noexcept;

/// What a failed version expectation (errc::conflict) expected and what it found.
struct version_conflict {
  expected_version expected;
  /// The stream's head version when the expectation was checked (0: no stream).
  stream_version actual = 0;

  friend bool operator==(const version_conflict& a, const version_conflict& b) {
    return a.expected == b.expected && a.actual == b.actual;
  }
};

/// An error code plus a human-readable message naming what failed.
struct error {
  errc code = errc::io_error;
  std::string message;
  /// Set on errc::conflict from a version check: lets a caller choose its answer (e.g.
  /// "exists already" for actual > 0 under no_stream) without re-reading the stream.
  std::optional<version_conflict> conflict;

  /// Renders as "code: message".
  std::string to_string() const;

  friend bool operator==(const error& a, const error& b) {
    return a.code == b.code && a.message == b.message && a.conflict == b.conflict;
  }
};

/// Builds an error from a code and a message.
inline error make_error(errc code, std::string message) {
  return error{code, std::move(message), std::nullopt};
}

/// Builds the errc::conflict of a failed version check, its message naming `subject`.
error make_conflict(const std::string& subject, expected_version expected, stream_version actual);

} // namespace annal
