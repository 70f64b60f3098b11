// Internal: the actor a node publishes on its cluster port. It admits a peer only after the
// peer proved the shared secret (see handshake.hpp) and then runs the commands the peer
// forwards on this node's runtime, after the epoch fencing check. Anything from a peer that
// did not prove the secret is refused and logged (the secret never is).
#pragma once

#include <caf/fwd.hpp>

#include <memory>

#include "node_context.hpp"

namespace annal::cluster::detail {

/// Spawns the endpoint of the node described by `ctx`.
caf::actor spawn_endpoint(caf::actor_system& sys, std::shared_ptr<node_context> ctx);

} // namespace annal::cluster::detail
