// Input checks of the event store: every append is validated before anything is written.
#include "event_store_impl.hpp"
#include "shard.hpp"

namespace annal::detail {

namespace {

constexpr std::size_t max_id_size = 255;
constexpr std::size_t max_metadata_size = 0xffff;

status bad(std::string msg) {
  return make_error(errc::bad_request, std::move(msg));
}

} // namespace

status validate_stream_id(std::string_view id) {
  if (id.empty())
    return bad("stream id is empty");
  if (id.size() > max_id_size)
    return bad("stream id is longer than 255 bytes");
  if (id.find('\0') != std::string_view::npos)
    return bad("stream id contains a NUL byte");
  return {};
}

namespace {

// The fields an appended and an imported event share.
status validate_fields(const std::string& stream_id, const std::string& type, const std::string& payload,
                       const event_metadata& m, const store_options& o) {
  if (type.empty() || type.size() > max_id_size)
    return bad("event type name of stream '" + stream_id + "' must be 1..255 bytes");
  if (payload.size() > o.max_payload_size)
    return bad("event payload of " + std::to_string(payload.size())
               + " bytes exceeds the limit of " + std::to_string(o.max_payload_size));
  if (m.command_id.size() > max_metadata_size || m.correlation_id.size() > max_metadata_size
      || m.causation_id.size() > max_metadata_size)
    return bad("event metadata id longer than 65535 bytes");
  return {};
}

status validate_imported(const recorded_event& e, const store_options& o) {
  if (auto ok = validate_stream_id(e.stream_id); !ok)
    return ok;
  if (e.corrupt)
    return bad("the event at shard position " + std::to_string(e.shard_position)
               + " is damaged and cannot be imported");
  if (e.version == 0 || e.shard_position == 0)
    return bad("an imported event needs its version and shard position");
  return validate_fields(e.stream_id, e.type, e.payload, e.metadata, o);
}

} // namespace

status validate_append(const stream_append& a, const store_options& o) {
  if (auto ok = validate_stream_id(a.stream_id); !ok)
    return ok;
  for (const auto& e : a.events)
    if (auto ok = validate_fields(a.stream_id, e.type, e.payload, e.metadata, o); !ok)
      return ok;
  return {};
}

status validate_import(const shard_import& chunk, uint16_t shard_count, const store_options& o) {
  if (shard_count == 0)
    return bad("this journal has no shards (format 2: upgrade it)");
  if (chunk.shard >= shard_count)
    return bad("shard " + std::to_string(chunk.shard) + " is out of range (the journal has "
               + std::to_string(shard_count) + ")");
  uint64_t previous = 0;
  for (const auto& e : chunk.events) {
    if (auto ok = validate_imported(e, o); !ok)
      return ok;
    if (e.shard != chunk.shard || shard_of(e.stream_id, shard_count) != chunk.shard)
      return bad("stream '" + e.stream_id + "' does not belong to shard "
                 + std::to_string(chunk.shard));
    if (e.shard_position <= previous)
      return bad("shard positions of an import must rise (" + std::to_string(e.shard_position)
                 + " after " + std::to_string(previous) + ")");
    previous = e.shard_position;
  }
  if (chunk.source_head != 0 && chunk.source_head < previous)
    return bad("the source's head is below the chunk's newest shard position");
  return {};
}

} // namespace annal::detail

namespace annal {

status validate_stream_id(std::string_view stream_id) {
  return detail::validate_stream_id(stream_id);
}

} // namespace annal
