// The journal writer: a detached actor (its own thread: fsync must never block CAF's
// scheduler) that group-commits the appends of every aggregate. Each append that arrived
// while the previous commit ran goes into ONE LMDB transaction with ONE fsync; the
// aggregates get their outcomes only after that commit, and the committed events go to
// the event bus in global order.
#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <memory>

#include "annal/journal_writer_options.hpp"

namespace annal {

class event_store;

/// Spawns the writer over `store` (which must outlive it). Committed events go to `bus`
/// (may be null). Protocol (internal, see detail/messages.hpp):
///   (append_atom, append_request)  -> later (appended_atom, append_outcomes) to the sender
///   (sync_atom)                    -> replies unit once everything queued before is committed
///   (import_atom, import_job)      -> imports the chunk (event_store::import_shard), sends
///                                     its events to the bus, calls job.done with the outcome
caf::actor spawn_journal_writer(caf::actor_system& sys, event_store& store,
                                journal_writer_options options, caf::actor bus,
                                std::shared_ptr<journal_metrics> metrics);

} // namespace annal
