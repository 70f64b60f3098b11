// Internal: the old owner's side of a shard move (see shard_move.cpp for its steps).
#pragma once

#include <caf/actor.hpp>

#include <map>
#include <memory>
#include <string>

#include "annal/cluster/shard_move.hpp"
#include "node_context.hpp"

namespace annal::cluster::detail {

/// Moves `shard`, which this node owns, to member `to` (through its link); `done`
/// runs once (on an actor thread, or at once for a refused request). Errors: bad_request
/// (no such shard or member), conflict (another node owns the shard, it is moving already,
/// or the copy came up short), unavailable (the new owner unreachable or too slow: the
/// shard stays here; or it did not confirm the hand-over: see the message), and those of
/// the journal's fence, hand-over and import.
void move_shard(std::shared_ptr<node_context> ctx, uint16_t shard, const std::string& to, move_shard_done done);

} // namespace annal::cluster::detail
