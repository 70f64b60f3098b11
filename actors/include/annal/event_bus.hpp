// The event bus: receives each committed batch from the journal writer, in global order,
// and fans it out to subscribers.
#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace annal {

/// Spawns an event bus. Protocol (internal, see detail/messages.hpp):
///   (subscribe_atom, caf::actor)         the actor receives every later batch as
///                                        (committed_atom, committed_events); it is
///                                        removed when it terminates
///   (committed_atom, committed_events)   from the journal writer
caf::actor spawn_event_bus(caf::actor_system& sys);

} // namespace annal
