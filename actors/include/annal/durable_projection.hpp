// A projection whose read model lives in the read-model LMDB environment: each batch of
// events is applied in ONE transaction that also stores the projection's checkpoint, so
// every event takes effect exactly once, even across kill -9.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "annal/projection.hpp"
#include "annal/read_model_store.hpp"

namespace annal {

/// Applies one event inside the read-model transaction. Return an error (or throw) to
/// fail the batch: nothing of it is written and the projection retries per its options.
using durable_handler = std::function<status(read_model_txn&, const event_view&)>;

/// What a user registers for a durable projection.
struct durable_projection {
  projection_options options;
  /// Read-model tables the projection owns: cleared when it is rebuilt.
  std::vector<std::string> tables;
  durable_handler apply;
};

/// The sink of a durable projection over `store` (which must outlive it). Errors:
/// those of opening the tables.
result<std::shared_ptr<projection_sink>> make_durable_sink(read_model_store& store,
                                                           const durable_projection& spec);

/// Name of the table holding parked (skipped) events of every projection, keyed by
/// parked_key(); the value is the error.
inline constexpr const char* parked_table_name = "annal.parked";

/// Key of a parked event: projection name, NUL, big-endian position.
std::string parked_key(std::string_view projection, global_position position);

/// Parks `position` of `projection` with the text of `why`, in its own transaction.
status park_event(read_model_store& store, std::string_view projection, global_position position,
                  const error& why);

/// Deletes every parked event of `projection` inside `t` (`parked` is the parked table).
status clear_parked(read_model_txn& t, table_id parked, std::string_view projection);

/// The parked positions of `projection`, in order.
result<std::vector<global_position>> parked_positions(read_model_store& store,
                                                      std::string_view projection);

} // namespace annal
