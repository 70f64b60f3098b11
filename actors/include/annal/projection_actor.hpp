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
caf::actor spawn_projection(caf::actor_system& sys, event_store& store, caf::actor bus,
                            std::shared_ptr<projection_sink> sink, projection_options options,
                            std::shared_ptr<projection_monitor> monitor);

} // namespace annal
