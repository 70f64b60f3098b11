#include "annal/detail/passivated_states.hpp"

namespace annal::detail {

std::size_t passivated_states::cost_of(const std::string& stream_id, const passivated_state& s) noexcept {
  // Two copies of the id, the state's bytes, the map node, the list node and the entry.
  return 2 * (stream_id.size() + sizeof(std::string)) + s.bytes.size() + sizeof(entry) + 64;
}

uint64_t passivated_states::epoch() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return epoch_;
}

void passivated_states::erase(std::unordered_map<std::string, entry>::iterator it) {
  bytes_ -= it->second.cost;
  order_.erase(it->second.age);
  entries_.erase(it);
}

void passivated_states::put(const std::string& stream_id, passivated_state s, uint64_t epoch) {
  auto cost = cost_of(stream_id, s);
  std::lock_guard<std::mutex> guard{mutex_};
  if (epoch != epoch_ || cost > budget_)
    return;
  if (auto it = entries_.find(stream_id); it != entries_.end())
    erase(it);
  while (bytes_ + cost > budget_ && !order_.empty())
    erase(entries_.find(order_.front()));
  order_.push_back(stream_id);
  entries_.emplace(stream_id, entry{std::move(s), std::prev(order_.end()), cost});
  bytes_ += cost;
}

std::optional<passivated_state> passivated_states::take(const std::string& stream_id) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = entries_.find(stream_id);
  if (it == entries_.end()) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  auto out = std::move(it->second.state);
  erase(it);
  return out;
}

void passivated_states::clear() {
  std::lock_guard<std::mutex> guard{mutex_};
  entries_.clear();
  order_.clear();
  bytes_ = 0;
  ++epoch_;
}

std::size_t passivated_states::size() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return entries_.size();
}

std::size_t passivated_states::bytes() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return bytes_;
}

uint64_t passivated_states::hits() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return hits_;
}

uint64_t passivated_states::misses() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return misses_;
}

} // namespace annal::detail
