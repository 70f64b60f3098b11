// An event as a line of output, shared by events, log and tail.
#pragma once

#include "annal/event_registry.hpp"
#include "annal/recorded_event.hpp"
#include "record.hpp"

namespace annal::cli {

/// The event's position, stream, version, type, time and metadata, and its payload as
/// JSON through `registry`; a payload that cannot be rendered (unknown type, damaged
/// event) comes as its size, base64 bytes and the reason. In a table, the metadata share
/// one column and the payload is the last.
record event_record(const event_view& e, const event_registry& registry);

} // namespace annal::cli
