// Internal: the runtime's forwarder for a node: the shard map says where a stream lives,
// the owner's link takes the command.
#pragma once

#include <caf/actor.hpp>

#include <map>
#include <memory>

#include "annal/cluster/remote_shard.hpp"
#include "annal/cluster/remote_stream.hpp"
#include "annal/command_forwarder.hpp"
#include "node_context.hpp"

namespace annal::cluster::detail {

class shard_forwarder : public command_forwarder {
public:
  explicit shard_forwarder(std::shared_ptr<node_context> ctx) : ctx_(std::move(ctx)) {}

  bool is_remote(std::string_view stream_id) const override;
  void forward(forwarded_command cmd, std::function<void(command_result)> done) override;
  bool owns_shard(uint16_t shard) const override;
  /// Reads `stream_id` after version `after` from its owner's journal (a remote stream).
  void read(std::string stream_id, stream_version after, read_stream_done done) const;
  /// Reads `shard` after shard position `after` from `owner` (a remote shard, at the
  /// owner's epoch: the answer carries it).
  void read_shard(uint16_t shard, uint64_t after, uint64_t hint, const shard_owner& owner,
                  read_shard_done done) const;

private:
  // Its links (ctx_->peers): a link that exited (the node left) drops what it is sent,
  // and the command's callback answers unavailable.
  std::shared_ptr<node_context> ctx_;
};

} // namespace annal::cluster::detail
