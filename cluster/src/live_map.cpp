#include "live_map.hpp"

#include <mutex>

namespace annal::cluster::detail {

void live_map::reset(shard_map map) {
  std::unique_lock<std::shared_mutex> lock{mx_};
  map_ = std::move(map);
}

shard_map live_map::copy() const {
  std::shared_lock<std::shared_mutex> lock{mx_};
  return map_;
}

shard_owner live_map::owner(uint16_t shard) const {
  std::shared_lock<std::shared_mutex> lock{mx_};
  return map_.owner(shard);
}

uint16_t live_map::shard_count() const {
  std::shared_lock<std::shared_mutex> lock{mx_};
  return map_.shard_count();
}

bool live_map::adopt(uint16_t shard, const shard_owner& o) {
  std::unique_lock<std::shared_mutex> lock{mx_};
  if (shard >= map_.shard_count() || o.epoch <= map_.owner(shard).epoch)
    return false;
  map_.set_owner(shard, o);
  return true;
}

std::string encode_map(const shard_map& map) {
  std::string out;
  for (uint16_t s = 0; s < map.shard_count(); ++s) {
    const auto& o = map.owner(s);
    for (int i = 7; i >= 0; --i)
      out.push_back(static_cast<char>((o.epoch >> (8 * i)) & 0xff));
    out.push_back(static_cast<char>(o.node.size()));
    out += o.node;
  }
  return out;
}

std::optional<shard_map> decode_map(const std::string& bytes, uint16_t count) {
  shard_map map = shard_map::assign({"?"}, count);
  std::size_t at = 0;
  for (uint16_t s = 0; s < count; ++s) {
    if (bytes.size() < at + 9)
      return std::nullopt;
    uint64_t epoch = 0;
    for (int i = 0; i < 8; ++i)
      epoch = (epoch << 8) | static_cast<unsigned char>(bytes[at + i]);
    std::size_t len = static_cast<unsigned char>(bytes[at + 8]);
    at += 9;
    if (bytes.size() < at + len || len == 0 || epoch == 0)
      return std::nullopt;
    map.set_owner(s, shard_owner{bytes.substr(at, len), epoch});
    at += len;
  }
  if (at != bytes.size())
    return std::nullopt;
  return map;
}

} // namespace annal::cluster::detail
