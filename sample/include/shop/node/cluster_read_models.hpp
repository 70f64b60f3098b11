// The shop's read models in a cluster: the same five projections as on a node alone
// (shop::read_model_specs), run by one cluster projection over every shard, so every node
// answers every query about the whole shop. Its checkpoint is a shard position per shard
// (table "shop.read_models.shards"); orders per customer are ordered by placement time.
#pragma once

#include <memory>

#include "annal/cluster/cluster_node.hpp"
#include "annal/cluster/cluster_projection.hpp"
#include "annal/runtime.hpp"
#include "shop/read_models/tables.hpp"

namespace shop::node {

/// The cluster projection's name.
inline constexpr const char* cluster_read_models_name = "shop.read_models";

/// Starts filling `tables` (in rt's read-model store) from every shard of `node`; empties
/// them first when the projection has no checkpoint yet (read models the node kept of its
/// own journal before it joined). `node`, `rt` and the tables outlive the result. Errors:
/// those of cluster_projection::start.
annal::result<std::unique_ptr<annal::cluster::cluster_projection>> start_cluster_read_models(
  const annal::cluster::cluster_node& node, annal::runtime& rt, const read_model_tables& tables);

} // namespace shop::node
