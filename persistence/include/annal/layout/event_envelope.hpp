// A value of the journal's `events` table (keyed by its global position, 8 bytes BE): the
// event's envelope, checksummed with XXH3-64 seeded with the position (the layout is
// described in docs/architecture.md, Storage).
#pragma once

#include <cstdint>
#include <string_view>

#include "annal/recorded_event.hpp"

namespace annal::layout {

/// The envelope format this build writes (byte 8 of an envelope); older ones still read.
inline constexpr uint8_t envelope_format = 2;

/// Reads the stream id and version of an envelope without checking its checksum. False
/// when its structure is invalid.
bool peek_envelope(std::string_view bytes, std::string_view& stream_id,
                   stream_version& version) noexcept;

/// Decodes `bytes` stored at `position` into `out` (views into `bytes`). False, with
/// out.corrupt set, when the structure is invalid; true with out.corrupt set when only the
/// checksum fails (the fields are then best effort).
bool decode_envelope(global_position position, std::string_view bytes, event_view& out) noexcept;

} // namespace annal::layout
