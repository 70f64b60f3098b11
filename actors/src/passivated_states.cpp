#include "annal/detail/passivated_states.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <new>

#include "zero_packing.hpp"

namespace annal::detail {

// The links of the put order; after them the entry, encoded: the id's length (a varint)
// and the id, the four numbers (varints), the state's length (a varint) and its bytes,
// zero-packed. The size is not stored (cheap to recompute, and 4 bytes more would move a
// counter's entry into the allocator's next size class); the hash is, beside the slot.
struct passivated_states::node {
  node* older;
  node* newer;

  char* data() noexcept { return reinterpret_cast<char*>(this + 1); }
  const char* data() const noexcept { return reinterpret_cast<const char*>(this + 1); }
  std::string_view key() const noexcept;
  passivated_state decode() const;
  std::size_t allocation() const noexcept; // the bytes it was allocated with
};

namespace {

constexpr std::size_t npos = static_cast<std::size_t>(-1);
constexpr std::size_t min_slots = 16;
// What one slot costs: its pointer and its hash.
constexpr std::size_t slot_bytes = sizeof(void*) + sizeof(uint32_t);

std::size_t varint_size(uint64_t v) noexcept {
  std::size_t n = 1;
  for (; v >= 0x80; v >>= 7)
    ++n;
  return n;
}

char* put_varint(char* p, uint64_t v) noexcept {
  for (; v >= 0x80; v >>= 7)
    *p++ = static_cast<char>(static_cast<uint8_t>(v) | 0x80);
  *p++ = static_cast<char>(v);
  return p;
}

const char* get_varint(const char* p, uint64_t& v) noexcept {
  v = 0;
  for (int shift = 0;; shift += 7) {
    auto b = static_cast<uint8_t>(*p++);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (b < 0x80)
      return p;
  }
}

char* put_bytes(char* p, std::string_view s) noexcept {
  if (!s.empty())
    std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

uint32_t hash_of(std::string_view id) noexcept {
  return static_cast<uint32_t>(std::hash<std::string_view>{}(id));
}

// The home slot of `hash` in a table of `slots`: the hash scaled to [0, slots), which lets
// the table grow by half instead of doubling.
std::size_t home_of(uint32_t hash, std::size_t slots) noexcept {
  return static_cast<std::size_t>((static_cast<uint64_t>(hash) * slots) >> 32);
}

// What the allocator hands out for `bytes`, near enough (its small size classes step by 16).
std::size_t allocation_of(std::size_t bytes) noexcept {
  return (bytes + 15) & ~std::size_t{15};
}

std::size_t payload_size(std::string_view id, const passivated_state& s) noexcept {
  return varint_size(id.size()) + id.size() + varint_size(s.version)
         + varint_size(s.last_position) + varint_size(s.last_shard_position)
         + varint_size(s.last_snapshot) + varint_size(s.bytes.size()) + packed_size(s.bytes);
}

} // namespace

std::string_view passivated_states::node::key() const noexcept {
  uint64_t n = 0;
  const char* p = get_varint(data(), n);
  return {p, static_cast<std::size_t>(n)};
}

passivated_state passivated_states::node::decode() const {
  auto id = key();
  const char* p = id.data() + id.size();
  passivated_state s;
  p = get_varint(p, s.version);
  p = get_varint(p, s.last_position);
  p = get_varint(p, s.last_shard_position);
  p = get_varint(p, s.last_snapshot);
  uint64_t n = 0;
  p = get_varint(p, n);
  unpack(p, static_cast<std::size_t>(n), s.bytes);
  return s;
}

std::size_t passivated_states::node::allocation() const noexcept {
  auto id = key();
  const char* p = id.data() + id.size();
  uint64_t v = 0;
  for (int i = 0; i < 5; ++i) // the four numbers, then the state's length
    p = get_varint(p, v);
  p = skip_packed(p, static_cast<std::size_t>(v));
  return allocation_of(static_cast<std::size_t>(p - reinterpret_cast<const char*>(this)));
}

passivated_states::~passivated_states() {
  free_all();
}

uint64_t passivated_states::epoch() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return epoch_;
}

std::size_t passivated_states::next_slot(std::size_t i) const noexcept {
  return i + 1 == slots_.size() ? 0 : i + 1;
}

std::size_t passivated_states::slot_of(std::string_view stream_id, uint32_t hash) const {
  if (slots_.empty())
    return npos;
  for (auto i = home_of(hash, slots_.size()); slots_[i] != nullptr; i = next_slot(i))
    if (hashes_[i] == hash && slots_[i]->key() == stream_id)
      return i;
  return npos;
}

std::size_t passivated_states::slots_for(std::size_t entries) const noexcept {
  // At most 3 entries in 4 slots, so that a probe meets a free slot soon.
  auto slots = std::max(min_slots, slots_.size());
  while (entries * 4 > slots * 3)
    slots += slots / 2;
  return slots;
}

void passivated_states::rehash(std::size_t capacity) {
  std::vector<node*> old_slots(capacity, nullptr);
  std::vector<uint32_t> old_hashes(capacity, 0);
  old_slots.swap(slots_);
  old_hashes.swap(hashes_);
  for (std::size_t i = 0; i < old_slots.size(); ++i)
    if (old_slots[i] != nullptr)
      place(old_slots[i], old_hashes[i]);
}

void passivated_states::place(node* n, uint32_t hash) noexcept {
  auto i = home_of(hash, slots_.size());
  while (slots_[i] != nullptr)
    i = next_slot(i);
  slots_[i] = n;
  hashes_[i] = hash;
}

void passivated_states::grow_for(std::size_t entries) {
  auto wanted = slots_for(entries);
  if (wanted != slots_.size())
    rehash(wanted);
}

void passivated_states::erase_slot(std::size_t slot) {
  // Backward shift (no tombstones): move up each later entry of the run that may not be
  // found past the hole, i.e. whose home slot is not in (hole, its slot].
  for (auto j = next_slot(slot); slots_[j] != nullptr; j = next_slot(j)) {
    auto home = home_of(hashes_[j], slots_.size());
    bool stays = slot <= j ? (slot < home && home <= j) : (slot < home || home <= j);
    if (stays)
      continue;
    slots_[slot] = slots_[j];
    hashes_[slot] = hashes_[j];
    slot = j;
  }
  slots_[slot] = nullptr;
}

void passivated_states::unlink(node* n) noexcept {
  (n->older != nullptr ? n->older->newer : oldest_) = n->newer;
  (n->newer != nullptr ? n->newer->older : newest_) = n->older;
}

void passivated_states::erase(std::size_t slot) {
  node* n = slots_[slot];
  erase_slot(slot);
  unlink(n);
  node_bytes_ -= n->allocation();
  --size_;
  ::operator delete(n);
}

void passivated_states::free_all() noexcept {
  for (node* n = oldest_; n != nullptr;) {
    node* next = n->newer;
    ::operator delete(n);
    n = next;
  }
  oldest_ = newest_ = nullptr;
}

void passivated_states::put(const std::string& stream_id, passivated_state s, uint64_t epoch) {
  auto payload = payload_size(stream_id, s);
  auto cost = allocation_of(sizeof(node) + payload);
  auto hash = hash_of(stream_id);
  std::lock_guard<std::mutex> guard{mutex_};
  if (epoch != epoch_ || cost > budget_)
    return;
  if (auto slot = slot_of(stream_id, hash); slot != npos)
    erase(slot);
  auto over = [&] { return node_bytes_ + cost + slots_for(size_ + 1) * slot_bytes > budget_; };
  while (oldest_ != nullptr && over()) {
    auto oldest = oldest_->key();
    erase(slot_of(oldest, hash_of(oldest)));
  }
  if (over())
    return; // the table alone, sized for more entries before, leaves no room for this one
  grow_for(size_ + 1); // before the node exists: a failed allocation leaves all consistent
  auto* n = new (::operator new(sizeof(node) + payload)) node{newest_, nullptr};
  char* p = put_varint(n->data(), stream_id.size());
  p = put_bytes(p, stream_id);
  p = put_varint(p, s.version);
  p = put_varint(p, s.last_position);
  p = put_varint(p, s.last_shard_position);
  p = put_varint(p, s.last_snapshot);
  p = put_varint(p, s.bytes.size());
  pack(s.bytes, p);
  (newest_ != nullptr ? newest_->newer : oldest_) = n;
  newest_ = n;
  place(n, hash);
  ++size_;
  node_bytes_ += cost;
}

std::optional<passivated_state> passivated_states::take(const std::string& stream_id) {
  auto hash = hash_of(stream_id);
  std::lock_guard<std::mutex> guard{mutex_};
  auto slot = slot_of(stream_id, hash);
  if (slot == npos) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  auto out = slots_[slot]->decode();
  erase(slot);
  return out;
}

void passivated_states::clear() {
  std::lock_guard<std::mutex> guard{mutex_};
  free_all();
  std::vector<node*>{}.swap(slots_);
  std::vector<uint32_t>{}.swap(hashes_);
  size_ = 0;
  node_bytes_ = 0;
  ++epoch_;
}

std::size_t passivated_states::size() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return size_;
}

std::size_t passivated_states::bytes() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return node_bytes_ + slots_.size() * slot_bytes;
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
