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
/// projection name, NUL, big-endian position; the value is the error.
inline constexpr const char* parked_table_name = "annal.parked";

} // namespace annal
