#include "event_record.hpp"

#include "human_format.hpp"
#include "json_text.hpp"

namespace annal::cli {

namespace {

std::string metadata_cell(const event_view& e) {
  std::string s;
  auto add = [&](const char* name, std::string_view v) {
    if (v.empty())
      return;
    if (!s.empty())
      s.push_back(' ');
    s += name;
    s.push_back('=');
    s.append(v);
  };
  add("cmd", e.command_id);
  add("corr", e.correlation_id);
  add("cause", e.causation_id);
  return s;
}

} // namespace

record event_record(const event_view& e, const event_registry& registry) {
  record r;
  r.number("position", e.position)
    .text("stream", e.stream_id).at_most(40)
    .number("version", e.version)
    .text("type", e.type)
    .number("schema_version", uint64_t{e.schema_version}).json_only()
    .text("time", format_time(e.timestamp)).json_only()
    .text("time", format_time(e.timestamp, 3)).table_only()
    .number("timestamp_ns", e.timestamp).json_only()
    .text("command_id", e.command_id).json_only()
    .text("correlation_id", e.correlation_id).json_only()
    .text("causation_id", e.causation_id).json_only()
    .text("meta", metadata_cell(e)).table_only().at_most(32)
    .number("payload_size", uint64_t{e.payload.size()}).json_only();
  if (e.corrupt)
    r.boolean("corrupt", true).json_only();
  result<std::string> rendered = make_error(errc::unknown_event_type, "not registered");
  if (e.corrupt)
    rendered = make_error(errc::corrupt, "the event failed its checksum");
  else if (registry.contains(e.type))
    rendered = registry.to_json(e.type, e.schema_version, e.payload, e.corrupt);
  if (rendered) {
    r.json("data", std::move(*rendered));
    return r;
  }
  const auto& err = rendered.error();
  r.null("data").json_only()
    .text("payload_base64", base64(e.payload)).json_only()
    .text("decode_error", err.code == errc::unknown_event_type && !registry.contains(e.type)
                            ? "unknown event type" : err.message).json_only();
  // Generic, clearly marked: the bytes themselves, so that nothing stored is hidden.
  std::string cell = "[undecoded: ";
  cell += e.corrupt ? "damaged" : registry.contains(e.type) ? "undecodable" : "unknown type";
  cell += ", schema v" + std::to_string(e.schema_version) + ", "
          + std::to_string(e.payload.size()) + " bytes] base64:" + base64(e.payload);
  r.text("data", cell).table_only();
  return r;
}

} // namespace annal::cli
