// An event store in memory: the same contract as the LMDB store (the conformance suite
// runs against both), for users' fast tests. Nothing survives the object; map sizes,
// durability and max_readers of store_options mean nothing here.
#pragma once

#include <memory>

#include "annal/event_store.hpp"

namespace annal {

/// Creates an empty in-memory store. Honours max_payload_size, snapshots_to_keep,
/// shard_count and read_only of `options` (the folder is ignored). Thread safety: as the
/// LMDB store (any thread; visitors run under a shared lock, so they must not write).
std::unique_ptr<event_store> make_memory_event_store(const store_options& options = {});

} // namespace annal
