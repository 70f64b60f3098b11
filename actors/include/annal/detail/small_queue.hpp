// Internal: a FIFO queue that costs nothing while empty. An aggregate instance keeps a few
// queues that are empty most of the time, and std::deque allocates about 576 bytes up
// front — times 100,000 live instances. This one is a vector plus the index of its front.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace annal::detail {

template <class T>
class small_queue {
public:
  bool empty() const noexcept { return head_ == items_.size(); }
  std::size_t size() const noexcept { return items_.size() - head_; }

  T& front() { return items_[head_]; }
  T& back() { return items_.back(); }

  void push_back(T x) { items_.push_back(std::move(x)); }

  /// Removes the front; the storage is compacted when half of it is dead.
  void pop_front() {
    ++head_;
    if (head_ == items_.size()) {
      clear();
    } else if (head_ >= 32 && head_ * 2 >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }

  void clear() {
    items_.clear();
    head_ = 0;
  }

  auto begin() { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  auto end() { return items_.end(); }
  auto begin() const { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  auto end() const { return items_.end(); }

private:
  std::vector<T> items_;
  std::size_t head_ = 0;
};

} // namespace annal::detail
