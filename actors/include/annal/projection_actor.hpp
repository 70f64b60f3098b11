// Spawning a projection: a detached actor (its read-model commits fsync, which must not
// block CAF's scheduler) that follows the global log through the event bus and applies
// it to a projection_sink, retrying, faulting or skipping per its options.
#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <memory>

#include "annal/projection.hpp"
#include "annal/projection_monitor.hpp"

namespace annal {

class event_store;

/// Spawns the projection. Control protocol (each request answered with unit):
///   (restart_atom)  resume from the checkpoint (after a fault or a stop)
///   (skip_atom)     park the event it faulted on and go on
///   (rebuild_atom)  drop the read model and checkpoint, replay from position 0
///   (stop_atom)     stop following the log
/// For a start_position::end projection that never stored a position: stores the log's
/// end now, so that "the end" is the moment of this call and not whenever the actor first
/// runs (a command committed in between would be missed). Other projections: no-op.
status fix_start_position(event_store& store, projection_sink& sink,
                          const projection_options& options);

caf::actor spawn_projection(caf::actor_system& sys, event_store& store, caf::actor bus,
                            std::shared_ptr<projection_sink> sink, projection_options options,
                            std::shared_ptr<projection_monitor> monitor);

} // namespace annal
