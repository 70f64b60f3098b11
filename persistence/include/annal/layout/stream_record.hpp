// A value of the journal's `streams` table (keyed by stream id): a stream's head, last
// position, truncation point and deleted flag.
#pragma once

#include <string_view>

#include "annal/stream_info.hpp"

namespace annal::layout {

/// Fills `s` (all but stream_id) from a stored record; false when it is malformed.
bool decode_stream_record(std::string_view bytes, stream_info& s) noexcept;

} // namespace annal::layout
