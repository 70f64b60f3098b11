// One shard of the cluster read from its owner's journal (cluster_node::read_shard): the
// shard's events after a shard position, in shard-position order, and where the owner's
// scan of its log stopped. What a projection that covers every shard pulls from each
// owner. Thread safety: values.
#pragma once

#include <functional>
#include <vector>

#include "annal/recorded_event.hpp"
#include "annal/result.hpp"

namespace annal::cluster {

struct shard_events {
  /// Events of the shard with shard position > the one asked for, ascending, with their
  /// stream ids and metadata.
  std::vector<recorded_event> events;
  /// Pass back as `from` to continue: a node position of the owner's log (meaningless on
  /// any other node; start again from 0 when the shard's owner changed).
  global_position resume_after = 0;
  /// True when the owner stopped early: ask again from resume_after.
  bool more = false;
};

/// Receives a shard read's outcome, once (keep it short: it may run on an actor thread).
using read_shard_done = std::function<void(result<shard_events>)>;

} // namespace annal::cluster
