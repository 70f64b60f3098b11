#include "annal/cluster/fencing.hpp"

namespace annal::cluster {

status check_ownership(const shard_map& map, const std::string& self, std::string_view stream_id,
                       uint16_t shard, uint64_t epoch) {
  if (shard >= map.shard_count())
    return make_error(errc::bad_request, "shard " + std::to_string(shard) + " does not exist (the cluster has "
                                           + std::to_string(map.shard_count()) + ")");
  if (map.shard_of(stream_id) != shard)
    return make_error(errc::bad_request, std::string{stream_id} + " is in shard "
                                           + std::to_string(map.shard_of(stream_id)) + ", not "
                                           + std::to_string(shard) + ": the nodes disagree on the shard count");
  return check_shard_ownership(map, self, shard, epoch);
}

status check_shard_ownership(const shard_map& map, const std::string& self, uint16_t shard,
                             uint64_t epoch) {
  if (shard >= map.shard_count())
    return make_error(errc::bad_request, "shard " + std::to_string(shard) + " does not exist (the cluster has "
                                           + std::to_string(map.shard_count()) + ")");
  const auto& o = map.owner(shard);
  if (o.node != self)
    return make_error(errc::unavailable, "node " + self + " does not own shard " + std::to_string(shard)
                                           + " (its map says " + o.node + " at epoch "
                                           + std::to_string(o.epoch) + "): refresh the shard map and retry");
  if (o.epoch != epoch)
    return make_error(errc::unavailable, "node " + self + " owns shard " + std::to_string(shard) + " at epoch "
                                           + std::to_string(o.epoch) + ", not at epoch " + std::to_string(epoch)
                                           + ": refresh the shard map and retry");
  return {};
}

} // namespace annal::cluster
