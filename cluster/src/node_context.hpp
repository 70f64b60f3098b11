// Internal: what a node's cluster actors share. Immutable after join() (set before the
// endpoint is published) except the health board (locked).
#pragma once

#include <caf/actor_addr.hpp>

#include <map>
#include <memory>
#include <string>

#include "annal/cluster/cluster_config.hpp"
#include "annal/runtime.hpp"
#include "commit_signal.hpp"
#include "health_board.hpp"

namespace annal::cluster::detail {

struct node_context {
  cluster_config config;
  runtime* rt = nullptr;
  health_board health;
  // This node's endpoint and its links by peer id (weak: the actors hold this context).
  caf::actor_addr endpoint;
  std::map<std::string, caf::actor_addr> links;
  // Fired after each event this node's journal commits (from join(): a node joined after
  // the runtime started has no watcher, and nothing fires).
  std::shared_ptr<commit_signal> commits = std::make_shared<commit_signal>();
};

} // namespace annal::cluster::detail
