// Internal: the read-model tables of process managers, and their rows by shard. A state
// row's shard is that of the event whose handling wrote it, recorded in the table
// "annal.process_state_shards" (key: big-endian shard, then the row's full key; no value);
// a timer's is in its index entry (timer_service.hpp). A shard moving to another node takes
// its rows along (collect on the old owner, replace on the new one, drop on the old).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "annal/process_shard_state.hpp"
#include "annal/read_model_store.hpp"
#include "timer_service.hpp"

namespace annal::detail {

/// Name of the read-model table holding the state of every process manager (keys are
/// prefixed with the manager's name and '/').
inline constexpr const char* process_state_table_name = "annal.process_state";
inline constexpr const char* process_state_shards_table_name = "annal.process_state_shards";

/// The tables every process manager of a runtime shares.
struct process_tables {
  table_id state = 0;
  table_id state_shards = 0;
  timer_tables timers;
};

/// Opens (creating) the tables.
result<process_tables> open_process_tables(read_model_store& store);

/// Stages, inside `t`, the state row `full_key` ("<manager>/<key>") written while handling
/// an event of `shard`: `value`, or its removal when none.
status write_state(read_model_txn& t, const process_tables& tables, const std::string& full_key,
                   uint16_t shard, const std::optional<std::string>& value);

/// The state rows and timers of `shard`. Errors: io_error, corrupt (an undecodable timer).
result<process_shard_state> collect_process_shard(const read_model_txn& t, const process_tables& tables,
                                                  uint16_t shard);

/// Removes the state rows and timers of `shard` (inside `t`).
status drop_process_shard(read_model_txn& t, const process_tables& tables, uint16_t shard);

/// Makes `rows` the state rows and timers of `shard` (inside `t`): those held before go.
status replace_process_shard(read_model_txn& t, const process_tables& tables, uint16_t shard,
                             const process_shard_state& rows);

} // namespace annal::detail
