// Metadata carried by every event: who caused it and under which command.
#pragma once

#include <string>

namespace annal {

/// Ids that tie an event to the command that produced it and to the wider flow.
/// Each is free text of at most 65535 bytes; empty means "not given".
struct event_metadata {
  /// Id of the command that produced the event (idempotency key).
  std::string command_id;
  /// Id shared by every message of one business flow.
  std::string correlation_id;
  /// Id of the message (command or event) that directly caused this one.
  std::string causation_id;

  friend bool operator==(const event_metadata& a, const event_metadata& b) {
    return a.command_id == b.command_id && a.correlation_id == b.correlation_id
           && a.causation_id == b.causation_id;
  }
};

} // namespace annal
