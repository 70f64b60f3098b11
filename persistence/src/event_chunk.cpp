#include "annal/event_chunk.hpp"

#include <algorithm>

namespace annal {

std::size_t event_chunk::bytes_of(const event_view& e) noexcept {
  return e.stream_id.size() + e.type.size() + e.command_id.size() + e.correlation_id.size()
         + e.causation_id.size() + e.payload.size();
}

void event_chunk::reserve(std::size_t count, std::size_t bytes) {
  events_.reserve(count);
  storage_.reserve(bytes);
}

std::string_view event_chunk::copy(std::string_view s) {
  auto at = storage_.size();
  storage_.insert(storage_.end(), s.begin(), s.end());
  return {storage_.data() + at, s.size()};
}

void event_chunk::make_room(std::size_t bytes) {
  if (storage_.capacity() - storage_.size() >= bytes)
    return;
  // Reserved too little: move the strings and point the views kept so far at the new
  // buffer (reserve() up front avoids this).
  const char* old = storage_.data();
  storage_.reserve(std::max(storage_.capacity() * 2, storage_.size() + bytes));
  auto rebase = [&](std::string_view& v) {
    if (!v.empty())
      v = {storage_.data() + (v.data() - old), v.size()};
  };
  for (auto& e : events_) {
    rebase(e.stream_id);
    rebase(e.type);
    rebase(e.command_id);
    rebase(e.correlation_id);
    rebase(e.causation_id);
    rebase(e.payload);
  }
}

void event_chunk::keep(const event_view& e) {
  make_room(bytes_of(e));
  event_view v = e;
  v.stream_id = copy(e.stream_id);
  v.type = copy(e.type);
  v.command_id = copy(e.command_id);
  v.correlation_id = copy(e.correlation_id);
  v.causation_id = copy(e.causation_id);
  v.payload = copy(e.payload);
  events_.push_back(v);
}

} // namespace annal
