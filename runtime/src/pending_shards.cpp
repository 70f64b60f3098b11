#include "pending_shards.hpp"

namespace annal::detail {

bool pending_shards::contains(uint16_t shard) const {
  std::lock_guard<std::mutex> guard{mx_};
  return shards_.count(shard) > 0;
}

void pending_shards::set(uint16_t shard, bool pending) {
  std::lock_guard<std::mutex> guard{mx_};
  if (pending) {
    shards_.insert(shard);
    waiting_.emplace(shard, clock::now()); // a failed merge restoring the mark keeps its age
  } else {
    shards_.erase(shard);
  }
  recount();
}

void pending_shards::arrived(uint16_t shard) {
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard<std::mutex> guard{mx_};
    if (shards_.count(shard) > 0 || waiting_.erase(shard) == 0)
      return; // still expected (the merge did not commit), or nobody waited
    recount();
    wake = listeners_;
  }
  for (auto& fn : wake)
    fn();
}

bool pending_shards::awaits(uint16_t shard, clock::time_point at) const {
  std::lock_guard<std::mutex> guard{mx_};
  auto i = waiting_.find(shard);
  return i != waiting_.end() && at - i->second < bound_;
}

std::optional<pending_shards::clock::time_point> pending_shards::wait_ends(uint16_t shard) const {
  std::lock_guard<std::mutex> guard{mx_};
  auto i = waiting_.find(shard);
  if (i == waiting_.end())
    return std::nullopt;
  return i->second + bound_;
}

void pending_shards::hold(uint16_t shard, const std::string& name, bool held) {
  std::lock_guard<std::mutex> guard{mx_};
  if (held) {
    holders_[shard].insert(name);
  } else if (auto i = holders_.find(shard); i != holders_.end()) {
    i->second.erase(name);
    if (i->second.empty())
      holders_.erase(i);
  }
  recount();
}

bool pending_shards::held(uint16_t shard) const {
  std::lock_guard<std::mutex> guard{mx_};
  return holders_.count(shard) > 0;
}

void pending_shards::on_arrival(std::function<void()> fn) {
  std::lock_guard<std::mutex> guard{mx_};
  listeners_.push_back(std::move(fn));
}

void pending_shards::note_take(uint16_t shard) {
  std::lock_guard<std::mutex> guard{mx_};
  ++takes_[shard];
  waiting_[shard] = clock::now();
  recount();
}

uint64_t pending_shards::takes(uint16_t shard) const {
  std::lock_guard<std::mutex> guard{mx_};
  auto it = takes_.find(shard);
  return it == takes_.end() ? 0 : it->second;
}

void pending_shards::recount() {
  active_.store(shards_.size() + waiting_.size() + holders_.size(), std::memory_order_release);
}

} // namespace annal::detail
