#include "forwarder.hpp"

#include <caf/send.hpp>

#include "wire.hpp"

namespace annal::cluster::detail {

bool shard_forwarder::is_remote(std::string_view stream_id) const {
  const auto& map = ctx_->config.shards;
  return map.owner(map.shard_of(stream_id)).node != ctx_->config.node_id;
}

void shard_forwarder::forward(forwarded_command cmd, std::function<void(command_result)> done) {
  const auto& map = ctx_->config.shards;
  auto shard = map.shard_of(cmd.stream_id);
  const auto& owner = map.owner(shard);
  auto i = links_.find(owner.node);
  if (i == links_.end())
    return done(make_error(errc::unavailable, "no link to node '" + owner.node + "'"));
  outbound_command out{std::move(cmd), shard, owner.epoch,
                       std::make_shared<annal::detail::once_callback>(std::move(done))};
  caf::anon_send(i->second, std::move(out));
}

void shard_forwarder::read(std::string stream_id, stream_version after, read_stream_done done) const {
  const auto& map = ctx_->config.shards;
  auto shard = map.shard_of(stream_id);
  const auto& owner = map.owner(shard);
  auto i = links_.find(owner.node);
  if (i == links_.end())
    return done(make_error(errc::unavailable, "no link to node '" + owner.node + "'"));
  outbound_read out{std::move(stream_id), after, shard, owner.epoch,
                    std::make_shared<read_callback>(std::move(done))};
  caf::anon_send(i->second, std::move(out));
}

void shard_forwarder::read_shard(uint16_t shard, uint64_t after, uint64_t hint,
                                 read_shard_done done) const {
  const auto& owner = ctx_->config.shards.owner(shard);
  auto i = links_.find(owner.node);
  if (i == links_.end())
    return done(make_error(errc::unavailable, "no link to node '" + owner.node + "'"));
  outbound_shard_read out{shard, owner.epoch, after, hint,
                          std::make_shared<shard_read_callback>(std::move(done))};
  caf::anon_send(i->second, std::move(out));
}

} // namespace annal::cluster::detail
