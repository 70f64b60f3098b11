// A value of the journal's `snapshots` table (keyed by stream_key(stream id, version)):
// one snapshot, checksummed with XXH3-64 seeded with its version.
#pragma once

#include <string_view>

#include "annal/snapshot_record.hpp"

namespace annal::layout {

/// Decodes `bytes` stored under (`stream_id`, `version`) into `out`; false when it is
/// malformed or fails its checksum.
bool decode_snapshot(std::string_view stream_id, stream_version version, std::string_view bytes,
                     snapshot_record& out);

} // namespace annal::layout
