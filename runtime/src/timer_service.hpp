// Internal: the durable timers of process managers. Timers are rows of the read-model
// table "annal.timers" (key: big-endian due time, then the timer's full key; value: the
// stored command), written by process managers together with their checkpoints. This
// detached actor fires due timers by dispatching their commands (with deterministic ids,
// so a timer fired again after a crash acts once) and deletes each after its outcome.
#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

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

/// Stages, inside `t`, the timer `full_key` at `due` (replacing an earlier one), or its
/// removal when `cmd` is null.
status write_timer(read_model_txn& t, const timer_tables& tables, const std::string& full_key,
                   timestamp_ns due, const stored_command* cmd);

/// Spawns the timer service (wake it with timer_atom after scheduling a timer).
caf::actor spawn_timer_service(caf::actor_system& sys, runtime& rt, timer_tables tables);

} // namespace annal::detail
