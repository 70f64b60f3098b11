// Small out-of-line functions of the persistence value types.
#include <chrono>

#include "annal/expected_version.hpp"
#include "annal/recorded_event.hpp"
#include "annal/store_options.hpp"

namespace annal {

std::string expected_version::to_string() const {
  switch (kind_) {
    case kind::any: return "any";
    case kind::no_stream: return "no_stream";
    case kind::stream_exists: return "stream_exists";
    case kind::exact: return std::to_string(version_);
  }
  return "?";
}

timestamp_ns now_ns() noexcept {
  using namespace std::chrono;
  return duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
}

recorded_event event_view::to_owned() const {
  recorded_event e;
  e.stream_id.assign(stream_id);
  e.version = version;
  e.position = position;
  e.type.assign(type);
  e.schema_version = schema_version;
  e.timestamp = timestamp;
  e.metadata.command_id.assign(command_id);
  e.metadata.correlation_id.assign(correlation_id);
  e.metadata.causation_id.assign(causation_id);
  e.payload.assign(payload);
  e.shard = shard;
  e.shard_position = shard_position;
  e.imported = imported;
  e.corrupt = corrupt;
  return e;
}

event_view recorded_event::view() const {
  event_view v;
  v.stream_id = stream_id;
  v.version = version;
  v.position = position;
  v.type = type;
  v.schema_version = schema_version;
  v.timestamp = timestamp;
  v.command_id = metadata.command_id;
  v.correlation_id = metadata.correlation_id;
  v.causation_id = metadata.causation_id;
  v.payload = payload;
  v.shard = shard;
  v.shard_position = shard_position;
  v.imported = imported;
  v.corrupt = corrupt;
  return v;
}

const char* to_string(durability d) noexcept {
  return d == durability::durable ? "durable" : "no_sync";
}

} // namespace annal
