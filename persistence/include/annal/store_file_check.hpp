// A check of an LMDB store's file structure that never crashes the process, for tools
// (annal verify) and embedders who want to know whether a folder is safe to open.
//
// Every store open (event_store::open, read_model_store::open) runs the same check before
// anything of the file is used, so a damaged file is refused with errc::corrupt and one
// line naming it instead of crashing the process inside LMDB.
#pragma once

#include <cstdint>
#include <filesystem>

#include "annal/result.hpp"

namespace annal {

/// What check_store_file walked.
struct store_file_stats {
  /// Pages of the file up to the last one in use, pages reached from the current meta
  /// page (tables and their overflow pages), and pages listed free.
  uint64_t file_pages = 0;
  uint64_t used_pages = 0;
  uint64_t free_pages = 0;
};

/// Checks the page structure of <dir>/data.mdb (pages, node bounds, key order within a
/// page, page counts of every table, free list) with plain reads, never through LMDB's map.
/// Safe beside a running writer (a read transaction pins the snapshot checked). Errors:
/// not_found (no store in `dir`), corrupt ("<file> is damaged: ..."), io_error.
result<store_file_stats> check_store_file(const std::filesystem::path& dir);

} // namespace annal
