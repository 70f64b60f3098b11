// Internal: the bounded memory of recent command ids of one aggregate instance, for
// idempotency. Successful results survive snapshots and restarts (ids are also stored in
// each event's metadata); rejections are remembered in memory only.
#pragma once

#include <string>
#include <unordered_map>
#include <utility>

#include "annal/command_options.hpp"
#include "annal/detail/small_queue.hpp"

namespace annal::detail {

class recent_commands {
public:
  explicit recent_commands(std::size_t capacity = 128) : capacity_(capacity) {}
  // Moves keep the map's elements where they are; a copy would not (order_ points in).
  recent_commands(recent_commands&&) noexcept = default;
  recent_commands& operator=(recent_commands&&) noexcept = default;
  recent_commands(const recent_commands&) = delete;
  recent_commands& operator=(const recent_commands&) = delete;

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
    order_.push_back(&*i); // elements stay put when the map rehashes
    while (order_.size() > capacity_) {
      results_.erase(results_.find(order_.front()->first));
      order_.pop_front();
    }
  }

  /// Calls fn(id, version, position) for each successful entry, oldest first (for a
  /// snapshot): in order, without a lookup per entry.
  template <class Fn>
  void for_each_success(Fn&& fn) const {
    for (const auto* e : order_)
      if (const auto& r = e->second)
        fn(e->first, r->version, r->position);
  }

  void clear() {
    results_.clear();
    order_.clear();
  }

  std::size_t size() const noexcept { return order_.size(); }

private:
  std::size_t capacity_;
  using entry = std::pair<const std::string, command_result>;
  small_queue<const entry*> order_; // oldest first, into results_
  std::unordered_map<std::string, command_result> results_;
};

} // namespace annal::detail
