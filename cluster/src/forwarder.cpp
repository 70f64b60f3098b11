#include "forwarder.hpp"

#include <caf/send.hpp>

#include "wire.hpp"

namespace annal::cluster::detail {

namespace {

// The link to `owner`, or none after `fail` got unavailable (no such member, or it left).
template <class Fail>
caf::actor link_to(const node_context& ctx, const std::string& owner, Fail& fail) {
  auto link = ctx.peers.link(owner);
  if (!link)
    fail(make_error(errc::unavailable, "no link to node '" + owner + "'"));
  return link;
}

} // namespace

bool shard_forwarder::is_remote(std::string_view stream_id) const {
  return ctx_->map.with([&](const shard_map& map) {
    return map.owner(map.shard_of(stream_id)).node != ctx_->config.node_id;
  });
}

bool shard_forwarder::owns_shard(uint16_t shard) const {
  return shard < ctx_->map.shard_count() && ctx_->map.owner(shard).node == ctx_->config.node_id;
}

void shard_forwarder::forward(forwarded_command cmd, std::function<void(command_result)> done) {
  auto shard = ctx_->config.shards.shard_of(cmd.stream_id); // the count never changes
  auto owner = ctx_->map.owner(shard);
  auto link = link_to(*ctx_, owner.node, done);
  if (!link)
    return;
  outbound_command out{std::move(cmd), shard, owner.epoch,
                       std::make_shared<annal::detail::once_callback>(std::move(done))};
  caf::anon_send(link, std::move(out));
}

void shard_forwarder::read(std::string stream_id, stream_version after, read_stream_done done) const {
  auto shard = ctx_->config.shards.shard_of(stream_id);
  auto owner = ctx_->map.owner(shard);
  auto link = link_to(*ctx_, owner.node, done);
  if (!link)
    return;
  outbound_read out{std::move(stream_id), after, shard, owner.epoch,
                    std::make_shared<read_callback>(std::move(done))};
  caf::anon_send(link, std::move(out));
}

void shard_forwarder::read_shard(uint16_t shard, uint64_t after, uint64_t hint,
                                 const shard_owner& owner, read_shard_done done) const {
  auto link = link_to(*ctx_, owner.node, done);
  if (!link)
    return;
  auto epoch = owner.epoch;
  outbound_shard_read out{shard, epoch, after, hint,
                          std::make_shared<shard_read_callback>(
                            [epoch, done = std::move(done)](result<shard_events> r) {
                              if (r)
                                r->epoch = epoch;
                              done(std::move(r));
                            })};
  caf::anon_send(link, std::move(out));
}

} // namespace annal::cluster::detail
