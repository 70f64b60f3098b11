// GET /cluster/status (token as the API) of a shop node that runs in a cluster: this node's
// view of the members, their health and the shard map (annal::cluster::to_json). The
// `annal cluster status` command reads it.
#pragma once

#include "annal/cluster/cluster_node.hpp"
#include "shop/node/http_server.hpp"

namespace shop::node {

/// The status route of `node`, which outlives the server.
extra_route cluster_status_route(const annal::cluster::cluster_node& node);

} // namespace shop::node
