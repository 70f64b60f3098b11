// Keys of the journal's per-stream tables (`stream_index`, `snapshots`): stream id, NUL,
// version in big-endian, so that one stream's keys are contiguous and ordered by version.
#pragma once

#include <string>
#include <string_view>

#include "annal/expected_version.hpp"

namespace annal::layout {

/// The key of (`stream_id`, `version`) in a per-stream table.
std::string stream_key(std::string_view stream_id, stream_version version);

/// True when `key` is a stream_key of `stream_id`; then `version` receives its version.
bool parse_stream_key(std::string_view key, std::string_view stream_id,
                      stream_version& version) noexcept;

} // namespace annal::layout
