// Damage injected below the API into a closed journal, the kinds `annal verify` must find:
// a flipped payload byte, a lost or misplaced index entry, a lost event (a gap), a newer
// format.
#pragma once

#include <lmdb.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "annal/recorded_event.hpp"

namespace annal::test {

/// Opens the LMDB environment of a journal folder for raw writes; one transaction per
/// edit. REQUIRES: no other handle on the journal in this process.
class journal_surgery {
public:
  explicit journal_surgery(const std::filesystem::path& journal_dir);
  ~journal_surgery();
  journal_surgery(const journal_surgery&) = delete;
  journal_surgery& operator=(const journal_surgery&) = delete;

  /// Flips the last byte of the event at `position` (its payload's last byte).
  void flip_payload_byte(global_position position);
  /// Deletes the stream_index entry (the run of one append) of `stream` that starts at
  /// `first_version`; returns the position of its first event.
  global_position erase_index_run(std::string_view stream, stream_version first_version);
  /// Rewrites the first position of the stream_index run of `stream` that starts at
  /// `first_version` (its count stays); returns the position it held before.
  global_position move_index_run(std::string_view stream, stream_version first_version,
                                 global_position first_position);
  /// Deletes the event at `position` from the events table.
  void erase_event(global_position position);
  /// Deletes the entry of `stream` from the index of deleted and truncated streams.
  void erase_trimmed_entry(std::string_view stream);
  /// Overwrites the format version in the meta table.
  void set_format_version(uint32_t version);
  /// The raw value of meta record `key` ("" when absent).
  std::string meta_value(std::string_view key);
  /// Overwrites meta record `key` with `value` as it is.
  void set_meta_value(std::string_view key, std::string_view value);

private:
  MDB_dbi table(MDB_txn* txn, const char* name);
  MDB_env* env_ = nullptr;
};

} // namespace annal::test
