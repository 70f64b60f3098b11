// The cluster routes of a shop node that runs in a cluster (token as the API):
//   GET  /cluster/status             this node's view of the members, their health and the
//                                    shard map (annal::cluster::to_json; `annal cluster status`)
//   POST /cluster/shards/{s}/move    {"to": "<member>"}: moves shard s, which this node owns,
//                                    to that member (cluster_node::move_shard); answers with
//                                    the move's report, or 400 / 409 (another node owns it,
//                                    or it is moving) / 503 (the member is unreachable)
//   POST /cluster/rebalance          evens out the shards among the members, one move at a
//                                    time (cluster_node::rebalance): {"moves": [...]}, or
//                                    409 (one runs) / 503 (a member is unreachable)
//   POST /cluster/drain              moves every shard of this node to the others
//                                    (cluster_node::drain), before it is removed
#pragma once

#include "annal/cluster/cluster_node.hpp"
#include "shop/node/http_server.hpp"

namespace shop::node {

/// The status route of `node`, which outlives the server.
extra_route cluster_status_route(const annal::cluster::cluster_node& node);

/// The shard-move route of `node`, which outlives the server.
extra_route cluster_move_route(annal::cluster::cluster_node& node);

/// The rebalance and drain routes of `node`, which outlives the server.
extra_route cluster_rebalance_route(annal::cluster::cluster_node& node);

} // namespace shop::node
