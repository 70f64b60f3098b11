#include "annal/cluster/shard_map.hpp"

#include <algorithm>

#include "shard.hpp" // persistence's shard function (the journal's, reused, not copied)

namespace annal::cluster {

shard_map shard_map::assign(std::vector<std::string> member_ids, uint16_t shard_count) {
  std::sort(member_ids.begin(), member_ids.end());
  shard_map m;
  m.owners_.reserve(shard_count);
  for (uint16_t s = 0; s < shard_count; ++s)
    m.owners_.push_back({member_ids[s % member_ids.size()], 1});
  return m;
}

uint16_t shard_map::shard_of(std::string_view stream_id) const noexcept {
  return detail::shard_of(stream_id, shard_count());
}

std::vector<uint16_t> shard_map::shards_of(const std::string& node) const {
  std::vector<uint16_t> out;
  for (uint16_t s = 0; s < shard_count(); ++s)
    if (owners_[s].node == node)
      out.push_back(s);
  return out;
}

} // namespace annal::cluster
