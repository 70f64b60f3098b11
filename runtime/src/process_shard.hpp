// Internal: the read-model tables of process managers, and their rows by shard. A state
// row's shard is that of the event whose handling wrote it, recorded in the table
// "annal.process_state_shards" (key: big-endian shard, then the row's full key; no value);
// a timer's is in its index entry (timer_service.hpp).
//
// A shard moving to another node takes its rows along after the new owner took it over:
// the new owner first marks the shard as expecting them ("annal.process_shard_pending",
// key: the shard, value: the big-endian epoch of the take-over whose rows it expects),
// and while it is marked, every key its own managers write or erase for the shard is
// noted ("annal.process_shard_written", key: shard, 's' or 't', full key) so that the old
// owner's rows, merged later, never overwrite nor resurrect them. Meanwhile its managers
// hold the shard's events back ("annal.process_deferred", deferred_key()) and handle them
// once the rows arrived (process_sink.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "annal/process_shard_state.hpp"
#include "annal/read_model_store.hpp"
#include "pending_shards.hpp"
#include "timer_service.hpp"

namespace annal::detail {

/// Name of the read-model table holding the state of every process manager (keys are
/// prefixed with the manager's name and '/').
inline constexpr const char* process_state_table_name = "annal.process_state";
inline constexpr const char* process_state_shards_table_name = "annal.process_state_shards";
inline constexpr const char* process_shard_pending_table_name = "annal.process_shard_pending";
inline constexpr const char* process_shard_written_table_name = "annal.process_shard_written";
inline constexpr const char* process_shard_handed_table_name = "annal.process_shard_handed";
inline constexpr const char* process_deferred_table_name = "annal.process_deferred";

/// The tables every process manager of a runtime shares, and the pending shards.
struct process_tables {
  table_id state = 0;
  table_id state_shards = 0;
  table_id pending = 0;
  table_id written = 0;
  table_id handed = 0; // key: shard; value: big-endian epoch of the newest hand-off done
  table_id deferred = 0; // deferred_key(): events a manager holds back for their shard's rows
  timer_tables timers;
  std::shared_ptr<pending_shards> expected = std::make_shared<pending_shards>();
};

/// Opens (creating) the tables and loads the pending shards; their events wait at most
/// `wait` for the old owner's rows.
result<process_tables> open_process_tables(read_model_store& store, std::chrono::milliseconds wait);

/// Key of an event manager `name` holds back until the rows of its shard arrived: the
/// name, NUL, the big-endian shard, the big-endian position (no value).
std::string deferred_key(const std::string& name, uint16_t shard, global_position position);

/// A key deferred_key() wrote, taken apart; none when `key` is not one.
struct deferred_record {
  std::string_view name;
  uint16_t shard = 0;
  global_position position = 0;
};
std::optional<deferred_record> decode_deferred_key(std::string_view key);

/// The events manager `name` holds back, by shard, each shard's in log order.
result<std::map<uint16_t, std::vector<global_position>>> deferred_events(const read_model_txn& t,
                                                                         const process_tables& tables,
                                                                         const std::string& name);

/// Stages, inside `t`, the state row `full_key` ("<manager>/<key>") written while handling
/// an event of `shard`: `value`, or its removal when none (noted if the shard is pending).
status write_state(read_model_txn& t, const process_tables& tables, const std::string& full_key,
                   uint16_t shard, const std::optional<std::string>& value);

/// Stages the timer `full_key` of `shard` (write_timer; noted if the shard is pending).
status write_shard_timer(read_model_txn& t, const process_tables& tables, const std::string& full_key,
                         uint16_t shard, timestamp_ns due, const stored_command* cmd);

/// The state rows and timers of `shard`. Errors: io_error, corrupt (an undecodable timer).
result<process_shard_state> collect_process_shard(const read_model_txn& t, const process_tables& tables,
                                                  uint16_t shard);

/// True when this node holds state rows or timers of `shard`.
result<bool> holds_process_shard(const read_model_txn& t, const process_tables& tables, uint16_t shard);

/// The shards below `shard_count` this node holds state rows or timers of, ascending.
result<std::vector<uint16_t>> held_process_shards(const read_model_txn& t, const process_tables& tables,
                                                  uint16_t shard_count);

/// Removes the state rows and timers of `shard` (inside `t`).
status drop_process_shard(read_model_txn& t, const process_tables& tables, uint16_t shard);

/// Records that this node's hand-off of `shard` at `epoch` is done (inside `t`).
status record_hand_off(read_model_txn& t, const process_tables& tables, uint16_t shard, uint64_t epoch);

/// Every shard's newest hand-off done (record_hand_off): shard → epoch.
result<std::map<uint16_t, uint64_t>> hand_offs_done(const read_model_txn& t, const process_tables& tables);

/// Marks `shard` as expecting the rows its old owner handed over at `epoch` (inside `t`),
/// dropping what this node still holds of the shard from an earlier ownership.
status expect_process_shard(read_model_txn& t, const process_tables& tables, uint16_t shard, uint64_t epoch);

/// Merges the `rows` of `shard` handed over at `epoch` when the shard expects them (a key
/// this node holds or wrote since does not change), then ends the pending state; returns
/// the rows taken (none when the shard was not pending or expects a later epoch: a copy
/// of rows merged before). Errors: unavailable (the shard expects an earlier epoch's
/// rows), io_error, storage_full.
result<uint64_t> merge_process_shard(read_model_txn& t, const process_tables& tables, uint16_t shard,
                                     uint64_t epoch, const process_shard_state& rows);

} // namespace annal::detail
