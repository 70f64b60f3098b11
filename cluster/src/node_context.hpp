// Internal: what a node's cluster actors share. Immutable after join() (set before the
// endpoint is published) except the health board, the live shard map and the members
// (each locked).
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "annal/cluster/cluster_config.hpp"
#include "annal/runtime.hpp"
#include "commit_signal.hpp"
#include "health_board.hpp"
#include "live_map.hpp"
#include "peer_registry.hpp"

namespace annal::cluster::detail {

struct node_context {
  // The configured map is config.shards; the one in force (moves change it) is `map`.
  cluster_config config;
  live_map map;
  runtime* rt = nullptr;
  health_board health;
  // This node's endpoint (weak: the actors hold this context), the members and the links.
  caf::actor_addr endpoint;
  peer_registry peers;
  // Fired after each event this node's journal commits (from join(): a node joined after
  // the runtime started has no watcher, and nothing fires).
  std::shared_ptr<commit_signal> commits = std::make_shared<commit_signal>();
  // Shards this node is moving away now (one move per shard at a time), and, for shards
  // it pulls, where the last pull's scan of the old owner's log stopped (shard -> epoch,
  // hint): a move's second pull resumes there instead of rescanning that log.
  std::mutex moves_mx;
  std::set<uint16_t> moving;
  caf::actor rebalancer; // the rebalance (or drain) running, one at a time
  caf::actor sweep;      // hands process state of shards no longer ours to their owners
  std::map<uint16_t, std::pair<uint64_t, uint64_t>> pull_hints;
};

} // namespace annal::cluster::detail
