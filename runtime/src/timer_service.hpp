// Internal: the durable timers of process managers. Timers are rows of the read-model
// table "annal.timers" (key: big-endian due time, then the timer's full key; value: the
// stored command), written by process managers together with their checkpoints; the
// table "annal.timer_index" maps each full key to its due time and (since timers move
// with shards) the shard of the event that scheduled it: 8 bytes, then 2 (big-endian;
// absent in rows written before). This detached actor fires the due timers of the shards
// this node owns by dispatching their commands (with deterministic ids, so a timer fired
// again after a crash acts once) and deletes each after its outcome.
#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "annal/process_manager.hpp"
#include "annal/read_model_store.hpp"

namespace annal {
class runtime;
}

namespace annal::detail {

inline constexpr const char* timers_table_name = "annal.timers";
inline constexpr const char* timer_index_table_name = "annal.timer_index";

/// The tables of the timers.
struct timer_tables {
  table_id timers = 0;
  table_id index = 0;
};

/// Opens (creating) the timer tables.
result<timer_tables> open_timer_tables(read_model_store& store);

/// Stages, inside `t`, the timer `full_key` of `shard` at `due` (replacing an earlier
/// one), or its removal when `cmd` is null.
status write_timer(read_model_txn& t, const timer_tables& tables, const std::string& full_key,
                   uint16_t shard, timestamp_ns due, const stored_command* cmd);

/// A timer's index entry: when it is due and, unless written before timers had shards,
/// its shard.
struct timer_entry {
  timestamp_ns due = 0;
  std::optional<uint16_t> shard;
};

/// Decodes an "annal.timer_index" value; none when malformed.
std::optional<timer_entry> decode_timer_entry(std::string_view value);

/// The "annal.timers" key of the timer `full_key` due at `due`.
std::string timer_row_key(timestamp_ns due, const std::string& full_key);

/// Whether this node owns a shard (fires its timers).
using shard_predicate = std::function<bool(uint16_t shard)>;

/// Spawns the timer service (wake it with timer_atom after scheduling a timer). It fires
/// only timers of shards `owns` accepts (and those without a shard).
caf::actor spawn_timer_service(caf::actor_system& sys, runtime& rt, timer_tables tables, shard_predicate owns);

} // namespace annal::detail
