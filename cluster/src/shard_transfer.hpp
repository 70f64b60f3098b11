// Internal: the new owner's side of a shard move, and the merge of a peer's shard map.
// A move (cluster_node::move_shard, run by the old owner) asks the new owner to pull the
// shard (pull_shard: read_shard from the old owner, imported through the journal writer),
// fences it, has the rest pulled, records the hand-over and asks the new owner to take it
// (take_shard). Maps spread by merge_peer_map: the higher epoch of a shard wins.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "annal/cluster/shard_map.hpp"
#include "annal/result.hpp"
#include "node_context.hpp"

namespace annal::cluster::detail {

/// Adopts the shards `incoming` has at a higher epoch than this node's map. A shard it
/// names this node the owner of is first taken over in this node's journal: an old owner
/// hands a shard over only after this node pulled all of it. Returns how many shards changed.
std::size_t merge_peer_map(node_context& ctx, const shard_map& incoming);

/// Copies `shard` from peer `from`, which owns it at `epoch`, after what this node's journal
/// has of it, chunk by chunk through the runtime's journal writer; `done` gets the shard's
/// head once this node has all of it (once, on an actor thread). Errors: unavailable (the
/// peer or its link), those of the shard read and of the import.
void pull_shard(std::shared_ptr<node_context> ctx, uint16_t shard, uint64_t epoch,
                const std::string& from, std::function<void(result<uint64_t>)> done);

/// Records that this node owns `shard` from `epoch` on, once its journal holds the shard
/// through `head`, and makes it so in the live map. Errors: conflict (the copy is short of
/// `head`), those of event_store::take_over_shard.
status take_shard(node_context& ctx, uint16_t shard, uint64_t epoch, uint64_t head);

/// This node's head of `shard` (its newest shard position here). Errors: those of read_shard.
result<uint64_t> local_shard_head(node_context& ctx, uint16_t shard);

} // namespace annal::cluster::detail
