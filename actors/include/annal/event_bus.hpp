// The event bus: receives each committed batch from the journal writer, in global order,
// and delivers it to subscribers whose filter matches. It never buffers without bound:
// a subscriber still catching up gets a bounded buffer of live batches (overflow sends it
// back to reading the journal), and a live subscriber that falls too far behind is moved
// back to catch-up reading.
//
// A live subscriber with a pace (its projection's apply_interval) gets its batches at most
// once per pace, the batches held meanwhile sent together: a subscriber that applies only
// so often is then woken only so often (a detached projection's thread, woken for every
// commit, cost more CPU in context switches than its applies did).
//
// Subscription protocol (internal; the subscriber side is detail::subscription):
//   sub -> bus  (subscribe_atom, actor, event_filter, uint32_t pace_ms)
//                                                      => global_position live_from
//                 the bus buffers every batch after live_from for the subscriber
//   sub -> bus  (go_live_atom, position)               => (bool live, global_position)
//                 after the subscriber read the journal up to `position` >= live_from:
//                 buffered batches are delivered and it is live (true), or its buffer
//                 overflowed and it must read up to the returned position first (false)
//   bus -> sub  (committed_atom, committed_events)     a batch with matching events
//   bus -> sub  (committed_atom, committed_batches, global_position through)
//                                                      a paced delivery: the batches held
//                                                      since the last one, and the position
//                                                      past them
//   bus -> sub  (progress_atom, position)              a batch without any
//   sub -> bus  (ack_atom, position)                   processed up to position
//   bus -> sub  (behind_atom)                          too far behind: read the journal
//                                                      and subscribe again
//   sub -> bus  (unsub_atom, actor)                    stop deliveries
#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "annal/event_bus_options.hpp"

namespace annal {

/// Spawns an event bus.
caf::actor spawn_event_bus(caf::actor_system& sys, event_bus_options options = {});

} // namespace annal
