// Internal: a rebalance (cluster_node::rebalance, drain) runs as a small actor: it waits
// for every member's link, then moves one shard at a time (rebalance_plan's next move),
// asking the shard's owner (itself, or a peer through a give request), until the map is
// even (or, draining, this node owns nothing).
#pragma once

#include <memory>
#include <string>

#include "annal/cluster/rebalance.hpp"
#include "node_context.hpp"

namespace annal::cluster::detail {

/// Starts a rebalance; `draining` is this node's id for a drain, else empty. `done` runs
/// once, on an actor thread. Errors: conflict (one runs already on this node),
/// unavailable (a member's link is not up within move_timeout, or five moves in a row failed).
void rebalance(std::shared_ptr<node_context> ctx, std::string draining, rebalance_done done);

} // namespace annal::cluster::detail
