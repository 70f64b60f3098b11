// Internal: what a node's cluster actors share. Immutable after join() except the health
// board (locked).
#pragma once

#include "annal/cluster/cluster_config.hpp"
#include "annal/runtime.hpp"
#include "health_board.hpp"

namespace annal::cluster::detail {

struct node_context {
  cluster_config config;
  runtime* rt = nullptr;
  health_board health;
};

} // namespace annal::cluster::detail
