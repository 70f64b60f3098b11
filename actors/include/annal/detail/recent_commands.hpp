// Internal: the bounded memory of recent command ids of one aggregate instance, for
// idempotency. Successful results survive snapshots and restarts (ids are also stored in
// each event's metadata); rejections are remembered in memory only.
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "annal/command_options.hpp"
#include "annal/detail/small_queue.hpp"

namespace annal::detail {

class recent_commands {
public:
  explicit recent_commands(std::size_t capacity = 128) : capacity_(capacity) {}

  /// The remembered outcome of `id`, or nullptr.
  const command_result* find(const std::string& id) const {
    auto i = results_.find(id);
    return i == results_.end() ? nullptr : &i->second;
  }

  /// Remembers the outcome of `id`, forgetting the oldest beyond the capacity.
  void remember(const std::string& id, command_result r) {
    if (id.empty() || capacity_ == 0)
      return;
    auto [i, added] = results_.insert_or_assign(id, std::move(r));
    if (!added)
      return;
    order_.push_back(id);
    while (order_.size() > capacity_) {
      results_.erase(order_.front());
      order_.pop_front();
    }
  }

  /// The successful entries, oldest first, as (id, version, position) for a snapshot.
  std::vector<std::tuple<std::string, uint64_t, uint64_t>> successes() const {
    std::vector<std::tuple<std::string, uint64_t, uint64_t>> out;
    for (const auto& id : order_) {
      const auto& r = results_.at(id);
      if (r)
        out.emplace_back(id, r->version, r->position);
    }
    return out;
  }

  void clear() {
    results_.clear();
    order_.clear();
  }

  std::size_t size() const noexcept { return order_.size(); }

private:
  std::size_t capacity_;
  small_queue<std::string> order_;
  std::unordered_map<std::string, command_result> results_;
};

} // namespace annal::detail
