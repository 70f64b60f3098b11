#include "annal/detail/instance_directory.hpp"

#include <vector>

namespace annal::detail {

void instance_directory::prune(stripe& s, std::unordered_map<std::string, entry>::iterator i) {
  if (!i->second.instance && i->second.at_router == 0 && !i->second.stale)
    s.entries.erase(i);
}

void instance_directory::routed(const std::string& id, const caf::actor& live) {
  auto& s = stripe_of(id);
  std::lock_guard<std::mutex> guard{s.mx};
  auto i = s.entries.find(id);
  if (i == s.entries.end())
    return;
  if (i->second.at_router > 0)
    --i->second.at_router;
  if (live && live.address() != i->second.stale)
    i->second.instance = live;
  prune(s, i);
}

void instance_directory::open(const std::string& id, const caf::actor& live) {
  auto& s = stripe_of(id);
  std::lock_guard<std::mutex> guard{s.mx};
  auto& e = s.entries[id];
  if (live.address() != e.stale)
    e.instance = live;
}

void instance_directory::close(const std::string& id) {
  auto& s = stripe_of(id);
  std::lock_guard<std::mutex> guard{s.mx};
  auto i = s.entries.find(id);
  if (i == s.entries.end())
    return;
  i->second.instance = nullptr;
  i->second.stale = nullptr; // the router stops it now: whatever it opens next is fresh
  i->second.touched = false;
  prune(s, i);
}

void instance_directory::close_shard(uint16_t shard, uint16_t shard_count) {
  for (auto& s : stripes_) {
    std::lock_guard<std::mutex> guard{s.mx};
    for (auto i = s.entries.begin(); i != s.entries.end();) {
      auto next = std::next(i);
      if (i->second.instance && shard_of_(i->first, shard_count) == shard) {
        i->second.stale = i->second.instance.address();
        i->second.instance = nullptr;
        prune(s, i);
      }
      i = next;
    }
  }
}

bool instance_directory::take_touched(const std::string& id) {
  auto& s = stripe_of(id);
  std::lock_guard<std::mutex> guard{s.mx};
  auto i = s.entries.find(id);
  if (i == s.entries.end() || !i->second.touched)
    return false;
  i->second.touched = false;
  return true;
}

} // namespace annal::detail
