// Internal: the keys of the journal's `meta` table, in one place for the store, the index
// merge and the format upgrade.
#pragma once

#include <string_view>

namespace annal::meta_key {

/// u64: the newest committed global position.
inline constexpr std::string_view last_position = "last_position";
/// u32: the on-disk format (see event_store_impl.hpp).
inline constexpr std::string_view format = "format_version";
/// 16 hex characters naming this journal (damaged-file checks compare it).
inline constexpr std::string_view node_id = "node_id";
/// u16: shards of this store, fixed at creation (format 3).
inline constexpr std::string_view shard_count = "shard_count";
/// u64: how far the stored stream index reaches; later events are re-indexed at open.
inline constexpr std::string_view indexed_through = "indexed_through";
/// u64 position, then a stream id: a merge between its slices has stored the runs through
/// that position of every stream whose id sorts at or before this one (bytewise). Absent
/// when no merge is between slices.
inline constexpr std::string_view merge_partial = "merge_partial";
/// u64: how far a format-2 → 3 upgrade has rewritten events (0: none in progress).
inline constexpr std::string_view upgrade_through = "upgrade_through";
/// Present once table `trimmed_streams` lists every deleted or truncated stream (written
/// with the index's backfill; a journal from before the index has no such key).
inline constexpr std::string_view trimmed_indexed = "trimmed_indexed";

} // namespace annal::meta_key
