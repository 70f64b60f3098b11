// Internal: what every instance and the router of one aggregate type share.
#pragma once

#include <memory>

#include <caf/actor.hpp>

#include "annal/aggregate_options.hpp"
#include "annal/detail/new_stream_guess.hpp"
#include "annal/detail/passivated_states.hpp"

namespace annal {
class event_store;
class event_registry;
class loader_pool;
} // namespace annal

namespace annal::detail {

/// Immutable after the router is spawned (the guess and the passivated states it points to
/// excepted); the pointed-to services outlive every actor.
struct aggregate_context {
  event_store* store = nullptr;
  const event_registry* registry = nullptr;
  caf::actor writer;
  loader_pool* loader = nullptr;
  aggregate_options options;
  std::shared_ptr<new_stream_guess> new_streams = std::make_shared<new_stream_guess>();
  std::shared_ptr<passivated_states> passivated; // sized by options.passivated_state_bytes
};

} // namespace annal::detail
