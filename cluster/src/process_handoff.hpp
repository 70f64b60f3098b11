// Internal: handing a shard's process-manager state and timers to the node that owns the
// shard now. The old owner does it right after a move's take-over (its managers first
// handle everything it committed of the shard, their commands to the shard now going to
// the new owner), and a sweep retries every shard this node holds rows of but does not own
// (a failed hand-off, a kill -9 before it): nothing is left behind for good while the
// owner is reachable.
#pragma once

#include <caf/actor.hpp>

#include <cstdint>
#include <functional>
#include <memory>

#include "annal/result.hpp"
#include "node_context.hpp"

namespace annal::cluster::detail {

/// Sends this node's process-manager rows of `shard`, which it handed over at `epoch`, to
/// the shard's owner once this node's managers handled its log through its head, and
/// drops them here when the owner answered (rows merged, or none: the owner's chain had
/// them already); `done` gets the number of rows merged (once, on an actor thread).
/// Errors: those of runtime::export_process_shard, unavailable (the owner unreachable,
/// or not yet the owner of that hand-over), conflict (this node owns the shard), those of
/// the owner's import.
void hand_off_process_state(std::shared_ptr<node_context> ctx, uint16_t shard, uint64_t epoch,
                            std::function<void(result<uint64_t>)> done);

/// The receiving side: merges `rows` (a cereal process_shard_state) that an earlier owner
/// of `shard` held when it handed the shard over at `epoch`; this node must own the shard
/// from that epoch on. Errors: unavailable (this node does not own the shard, or has not
/// heard of that epoch yet), bad_request (malformed rows), those of
/// runtime::import_process_shard.
result<uint64_t> take_process_state(node_context& ctx, uint16_t shard, uint64_t epoch, const std::string& rows);

/// Spawns the sweep: every `interval`, the hand-off of the first shard this node holds
/// process rows of but neither owns nor is moving (one at a time).
caf::actor spawn_process_sweep(caf::actor_system& sys, std::shared_ptr<node_context> ctx,
                               std::chrono::milliseconds interval);

} // namespace annal::cluster::detail
