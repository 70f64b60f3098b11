// The owner's and the reader's sides of a shard read (wire.hpp): events of one shard, with
// their stream ids, cereal-encoded in one string like a stream read's.
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/vector.hpp>

#include <algorithm>

#include "annal/event_store.hpp"
#include "annal/serialization.hpp"
#include "wire.hpp"

namespace annal::cluster::detail {

namespace {

// One event of a shard read: its stream id and the event as a stream read sends it.
using wire_shard_event = std::tuple<std::string, wire_event>;

wire_shard_reply shard_error(const error& e) {
  return {static_cast<uint8_t>(e.code), e.message, 0, 0, false, std::string{}};
}

} // namespace

wire_shard_reply read_shard_local(event_store& store, const shard_map& map, uint16_t shard,
                                  uint64_t after, uint64_t hint, uint64_t max) {
  // A shard position means the same on every node only when the journals shard streams
  // as the map does.
  if (store.options().shard_count != map.shard_count())
    return shard_error(make_error(
      errc::bad_request, "the journal has " + std::to_string(store.options().shard_count)
                           + " shards and the cluster " + std::to_string(map.shard_count())
                           + ": shard reads need the same count"));
  shard_range range;
  range.shard = shard;
  range.after = after;
  range.max_count = std::min<uint64_t>(max, max_read_events);
  range.from_position = hint;
  auto chunk = store.read_shard(range);
  if (!chunk)
    return shard_error(chunk.error());
  std::vector<wire_shard_event> events;
  events.reserve(chunk->events.events().size());
  for (const auto& e : chunk->events.events())
    events.emplace_back(std::string{e.stream_id}, to_wire_event(e));
  auto bytes = to_bytes(events);
  if (!bytes)
    return shard_error(bytes.error());
  return {0, std::string{}, chunk->head, chunk->next_hint, chunk->at_end, std::move(*bytes)};
}

result<shard_events> shard_from_wire(const wire_shard_reply& w) {
  if (auto code = std::get<0>(w); code != 0)
    return code_error(code, std::get<1>(w));
  auto events = from_bytes<std::vector<wire_shard_event>>(std::get<5>(w));
  if (!events)
    return make_error(errc::corrupt, "the owner's shard events do not decode: "
                                       + events.error().message);
  shard_events out;
  out.head = std::get<2>(w);
  out.next_hint = std::get<3>(w);
  out.at_end = std::get<4>(w);
  out.events.reserve(events->size());
  for (auto& [stream, event] : *events)
    out.events.push_back(from_wire_event(std::move(stream), std::move(event)));
  return out;
}

std::string encode_heads(const std::vector<uint64_t>& heads) {
  std::string out(heads.size() * 8, '\0');
  for (std::size_t i = 0; i < heads.size(); ++i)
    for (int b = 0; b < 8; ++b)
      out[i * 8 + static_cast<std::size_t>(b)] = static_cast<char>(heads[i] >> (56 - 8 * b));
  return out;
}

std::optional<std::vector<uint64_t>> decode_heads(const std::string& bytes) {
  if (bytes.size() % 8 != 0)
    return std::nullopt;
  std::vector<uint64_t> heads(bytes.size() / 8, 0);
  for (std::size_t i = 0; i < bytes.size(); ++i)
    heads[i / 8] = (heads[i / 8] << 8) | static_cast<uint8_t>(bytes[i]);
  return heads;
}

result<std::vector<uint64_t>> owned_heads(event_store& store, const shard_map& map,
                                          const std::string& node_id) {
  std::vector<uint64_t> heads(map.shard_count(), 0);
  for (auto shard : map.shards_of(node_id)) {
    // after = max: the store answers the head without scanning.
    auto chunk = store.read_shard({shard, UINT64_MAX, 0, 0});
    if (!chunk)
      return std::move(chunk).error();
    heads[shard] = chunk->head;
  }
  return heads;
}

} // namespace annal::cluster::detail
