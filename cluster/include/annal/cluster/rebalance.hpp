// What evening out the shards among the members did (cluster_node::rebalance, drain): the
// moves, in order. Thread safety: values.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "annal/cluster/shard_move.hpp"
#include "annal/result.hpp"

namespace annal::cluster {

struct rebalance_report {
  std::vector<move_report> moves;
};

/// Receives a rebalance's outcome, once, on an actor thread.
using rebalance_done = std::function<void(result<rebalance_report>)>;

/// {"moves": [move_report's JSON, ...]}.
std::string to_json(const rebalance_report& r);

} // namespace annal::cluster
