// Every read of an event store written as text, so that two versions of Annal (or one
// store before and after an upgrade) can be compared line by line. Uses the public API
// only, so the program that wrote the format-2 fixture compiles against it unchanged.
#pragma once

#include <cstdio>
#include <string>

#include "annal/event_store.hpp"

namespace annal::test_data {

inline std::string hex(const std::string& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

inline std::string line_of(const recorded_event& e) {
  return e.stream_id + " v" + std::to_string(e.version) + " @" + std::to_string(e.position)
         + " " + e.type + "/" + std::to_string(e.schema_version) + " t"
         + std::to_string(e.timestamp) + " " + e.metadata.command_id + "|"
         + e.metadata.correlation_id + "|" + e.metadata.causation_id + " " + hex(e.payload)
         + (e.corrupt ? " CORRUPT" : "") + "\n";
}

/// The streams (heads, flags), each stream forward and backward, its newest snapshot, the
/// global log and the last position, as text.
inline std::string dump_store(event_store& store) {
  std::string out;
  auto streams = store.list_streams("", "", 1u << 20);
  if (!streams)
    return "list_streams failed: " + streams.error().message + "\n";
  for (const auto& s : *streams) {
    out += "stream " + s.stream_id + " head " + std::to_string(s.head) + " last "
           + std::to_string(s.last_position) + " truncated " + std::to_string(s.truncated_through)
           + (s.deleted ? " deleted" : "") + "\n";
    auto head = store.stream_head(s.stream_id);
    out += head ? "  head " + std::to_string(head->head) + " @" + std::to_string(head->last_position) + "\n"
                : "  head error " + head.error().message + "\n";
    auto fwd = store.read_stream(s.stream_id);
    if (!fwd) {
      out += "  read error " + std::to_string(static_cast<int>(fwd.error().code)) + "\n";
      continue;
    }
    for (const auto& e : *fwd)
      out += "  " + line_of(e);
    auto mid = store.read_stream(s.stream_id, stream_range{3, 7, 3});
    out += "  range(3,7,3):";
    if (mid)
      for (const auto& e : *mid)
        out += " " + std::to_string(e.version);
    out += "\n  backward:";
    auto back = store.read_stream_backward(s.stream_id, 0, 1000);
    if (back)
      for (const auto& e : *back)
        out += " " + std::to_string(e.version);
    out += "\n";
    auto snap = store.load_snapshot(s.stream_id);
    if (snap && *snap)
      out += "  snapshot v" + std::to_string((*snap)->version) + " " + (*snap)->type + " t"
             + std::to_string((*snap)->timestamp) + " " + hex((*snap)->state) + "\n";
  }
  out += "log\n";
  auto log = store.read_all(0, 1u << 20);
  if (log)
    for (const auto& e : *log)
      out += "  " + line_of(e);
  out += "last_position " + std::to_string(store.last_position().value()) + "\n";
  return out;
}

} // namespace annal::test_data
