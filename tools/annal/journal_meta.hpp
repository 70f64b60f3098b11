// The journal's meta table (format version, node id, last position), which the public
// API exposes only in part.
#pragma once

#include <cstdint>
#include <string>

#include "annal/event_store.hpp"
#include "raw_read_txn.hpp"

namespace annal::cli {

/// What the meta table holds; a field is left at its default when its record is missing
/// or malformed (verify reports those).
struct journal_meta {
  bool has_format_version = false;
  uint32_t format_version = 0;
  bool has_node_id = false;
  std::string node_id;
  bool has_last_position = false;
  global_position last_position = 0;
  /// Records of the wrong size, by key.
  std::string malformed;
};

/// The format version of journals this build reads and writes.
uint32_t supported_format_version() noexcept;

/// Reads the meta table inside `t`. Errors: io_error.
result<journal_meta> read_journal_meta(const raw_read_txn& t);

/// Reads the meta table of `store` in a transaction of its own.
result<journal_meta> read_journal_meta(event_store& store);

} // namespace annal::cli
