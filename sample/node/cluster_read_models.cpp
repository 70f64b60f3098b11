#include "shop/node/cluster_read_models.hpp"

#include "shop/model.hpp"

namespace shop::node {

annal::result<std::unique_ptr<annal::cluster::cluster_projection>> start_cluster_read_models(
  const annal::cluster::cluster_node& node, annal::runtime& rt, const read_model_tables& tables) {
  // One projection for the five: one read per shard and round instead of five.
  auto specs = read_model_specs(rt.registry(), tables, customer_order_ordering::placement_time);
  annal::cluster::cluster_projection_options options;
  options.name = cluster_read_models_name;
  options.tables = annal::cluster::tables_of(specs);
  return annal::cluster::cluster_projection::start(node, rt.read_models(), std::move(options),
                                                   annal::cluster::apply_each(std::move(specs)));
}

} // namespace shop::node
