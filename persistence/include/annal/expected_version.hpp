// The expectation an append places on a stream's current version (optimistic concurrency).
#pragma once

#include <cstdint>
#include <string>

namespace annal {

/// A stream's version: the number of events ever appended to it (1, 2, 3, ...; 0 = none).
using stream_version = uint64_t;

/// A position in the global log: strictly increasing per event, assigned at commit (0 = none).
using global_position = uint64_t;

/// What an append expects of the stream's head version. A mismatch fails the append
/// with errc::conflict and writes nothing. Value type; never a magic number.
class expected_version {
public:
  enum class kind : uint8_t { any, no_stream, stream_exists, exact };

  /// Accept whatever the stream's version is.
  static constexpr expected_version any() noexcept { return {kind::any, 0}; }
  /// The stream must not exist yet (head version 0).
  static constexpr expected_version no_stream() noexcept { return {kind::no_stream, 0}; }
  /// The stream must exist (head version >= 1).
  static constexpr expected_version stream_exists() noexcept { return {kind::stream_exists, 0}; }
  /// The stream's head must be exactly `v` (0 means the stream must not exist).
  static constexpr expected_version exact(stream_version v) noexcept {
    return v == 0 ? no_stream() : expected_version{kind::exact, v};
  }

  constexpr kind which() const noexcept { return kind_; }
  /// The exact version. Meaningful only when which() == kind::exact.
  constexpr stream_version version() const noexcept { return version_; }

  /// True when a stream whose head is `head` meets this expectation.
  constexpr bool matches(stream_version head) const noexcept {
    switch (kind_) {
      case kind::any: return true;
      case kind::no_stream: return head == 0;
      case kind::stream_exists: return head > 0;
      case kind::exact: return head == version_;
    }
    return false;
  }

  /// Renders as "any", "no_stream", "stream_exists" or the exact number.
  std::string to_string() const;

  friend constexpr bool operator==(expected_version a, expected_version b) noexcept {
    return a.kind_ == b.kind_ && a.version_ == b.version_;
  }

  /// The default is any().
  constexpr expected_version() noexcept = default;

private:
  constexpr expected_version(kind k, stream_version v) noexcept : kind_(k), version_(v) {}
  kind kind_ = kind::any;
  stream_version version_ = 0;
};

} // namespace annal
