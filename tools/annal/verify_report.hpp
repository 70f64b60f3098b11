// What `annal verify` found: every problem as it is found (one line each), counts of what
// was checked, and the event types this build could not decode, then a summary.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "annal/recorded_event.hpp"
#include "output.hpp"

namespace annal::cli {

/// A broken invariant. `check` names it (see docs/cli.md): file_structure, read_models,
/// meta, event_key,
/// event_envelope, event_checksum, event_index, payload, index_key, index_value,
/// index_target, stream_versions, stream_positions, stream_record, snapshot,
/// snapshot_replay.
struct problem {
  std::string check;
  std::string stream;
  stream_version version = 0;
  global_position position = 0;
  std::string message;
};

/// Counts of what verify looked at.
struct verify_counts {
  uint64_t events = 0;
  uint64_t payloads_decoded = 0;
  uint64_t unknown_events = 0;
  /// Runs of the stream index (one per append) and the events they cover.
  uint64_t index_entries = 0;
  uint64_t indexed_events = 0;
  /// Events past the stored index (format 3: not merged yet), indexed from their headers.
  uint64_t tail_events = 0;
  /// Places where a shard's positions skip (events truncated or deleted since).
  uint64_t shard_gaps = 0;
  uint64_t streams = 0;
  uint64_t snapshots = 0;
  uint64_t snapshots_sampled = 0;
  uint64_t snapshots_matched = 0;
  uint64_t snapshots_not_replayable = 0;
  uint64_t snapshots_unknown_type = 0;
  /// Pages whose structure was checked, per store (0: not checked or damaged).
  uint64_t journal_pages = 0;
  uint64_t read_model_pages = 0;
};

/// Thread safety: one thread.
class verify_report {
public:
  explicit verify_report(output& out) : out_(out) {}

  /// Prints the problem at once (a table row or a JSON line) and counts it.
  void add(problem p);

  /// Counts an event whose type (or schema version) this build does not know.
  void unknown(std::string_view type, uint32_t schema_version, bool type_known);

  verify_counts counts;

  uint64_t problems() const noexcept { return problems_; }

  /// Prints the unknown types and the summary (what was checked, how many problems).
  void finish();

private:
  output& out_;
  uint64_t problems_ = 0;
  std::map<std::string, uint64_t> unknown_;
};

} // namespace annal::cli
