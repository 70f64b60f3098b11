#include "wire.hpp"

#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/vector.hpp>

#include "annal/event_store.hpp"
#include "annal/serialization.hpp"

namespace annal::cluster::detail {

namespace {

// The largest errc the wire knows; a higher code is a newer peer's (or garbage).
constexpr auto last_errc = static_cast<uint8_t>(errc::overloaded);

} // namespace

error code_error(uint8_t code, const std::string& message) {
  if (code > last_errc)
    return make_error(errc::io_error, "the owner answered an unknown error code "
                                        + std::to_string(code) + ": " + message);
  return make_error(static_cast<errc>(code), message);
}

wire_event to_wire_event(const event_view& e) {
  return {e.version, e.position, std::string{e.type}, e.schema_version, e.timestamp, std::string{e.payload},
          e.shard, e.shard_position, e.corrupt, std::string{e.command_id}, std::string{e.correlation_id},
          std::string{e.causation_id}};
}

recorded_event from_wire_event(std::string stream_id, wire_event&& w) {
  auto& [version, position, type, schema, ts, payload, shard, shard_pos, corrupt, command_id,
         correlation_id, causation_id] = w;
  recorded_event e;
  e.stream_id = std::move(stream_id);
  e.version = version;
  e.position = position;
  e.type = std::move(type);
  e.schema_version = schema;
  e.timestamp = ts;
  e.payload = std::move(payload);
  e.shard = shard;
  e.shard_position = shard_pos;
  e.corrupt = corrupt;
  e.metadata.command_id = std::move(command_id);
  e.metadata.correlation_id = std::move(correlation_id);
  e.metadata.causation_id = std::move(causation_id);
  return e;
}

wire_reply to_wire(const command_result& r) {
  if (!r)
    return {static_cast<uint8_t>(r.error().code), r.error().message, 0, 0, false, 0, 0};
  return {0, std::string{}, r->version, r->position, r->duplicate, r->shard, r->shard_position};
}

command_result from_wire(const wire_reply& w) {
  auto code = std::get<0>(w);
  if (code != 0)
    return code_error(code, std::get<1>(w));
  command_reply reply;
  reply.version = std::get<2>(w);
  reply.position = std::get<3>(w);
  reply.duplicate = std::get<4>(w);
  reply.shard = std::get<5>(w);
  reply.shard_position = std::get<6>(w);
  return reply;
}

wire_read_reply read_error(const error& e) {
  return {static_cast<uint8_t>(e.code), e.message, 0, 0, 0, false, false, std::string{}};
}

wire_read_reply read_local(event_store& store, const std::string& stream_id, stream_version after) {
  auto head = store.stream_head(stream_id);
  if (!head)
    return read_error(head.error());
  std::vector<wire_event> events;
  bool more = false;
  if (!head->deleted && head->head > after) {
    if (head->truncated_through > after)
      return read_error(make_error(errc::corrupt, "events of " + stream_id + " up to v"
                                                    + std::to_string(head->truncated_through)
                                                    + " were truncated: load it on its owner"));
    stream_range range{after + 1, head->head, max_read_events};
    auto n = store.read_stream(stream_id, range, [&](const event_view& e) {
      events.push_back(to_wire_event(e));
      return true;
    });
    if (!n)
      return read_error(n.error());
    more = !events.empty() && std::get<0>(events.back()) < head->head;
  }
  auto bytes = to_bytes(events);
  if (!bytes)
    return read_error(bytes.error());
  return {0, std::string{}, head->head, head->last_position, head->truncated_through, head->deleted,
          more, std::move(*bytes)};
}

result<remote_stream> from_wire(const wire_read_reply& w, const std::string& stream_id) {
  if (auto code = std::get<0>(w); code != 0)
    return code_error(code, std::get<1>(w));
  auto events = from_bytes<std::vector<wire_event>>(std::get<7>(w));
  if (!events)
    return make_error(errc::corrupt, "the owner's events of " + stream_id
                                       + " do not decode: " + events.error().message);
  remote_stream out;
  out.head.stream_id = stream_id;
  out.head.head = std::get<2>(w);
  out.head.last_position = std::get<3>(w);
  out.head.truncated_through = std::get<4>(w);
  out.head.deleted = std::get<5>(w);
  out.more = std::get<6>(w);
  out.events.reserve(events->size());
  for (auto& ev : *events)
    out.events.push_back(from_wire_event(stream_id, std::move(ev)));
  return out;
}

} // namespace annal::cluster::detail
