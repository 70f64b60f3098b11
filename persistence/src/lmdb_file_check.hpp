// Internal: checks the page structure of an LMDB data file before LMDB itself walks it.
//
// LMDB trusts its file: a zeroed page trips an assertion (abort), a page number beyond the
// end of a truncated file raises SIGBUS when the map is touched, and a flipped byte in a
// page header or a node offset sends it off into arbitrary memory (SIGSEGV). The checker
// reads the file with pread() (never through the map) and validates every page reachable
// from the current meta page: each page names itself, has the type its depth requires and
// node offsets and sizes inside the page; keys are in order within a page; child and
// overflow page numbers lie inside the file; no page is reached twice or is both in use
// and free; and each table's record agrees with its tree (depth, page and entry counts).
// A store that passes can be walked by LMDB without crashing (its values may still be
// damaged: the journal's checksums find those).
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <filesystem>

#include "annal/result.hpp"

namespace annal::detail {

/// What a check walked.
struct lmdb_file_stats {
  /// Pages of the file up to the last one in use (meta pages included).
  uint64_t file_pages = 0;
  /// Pages reached from the meta page (tables, overflow pages) and pages listed free.
  uint64_t used_pages = 0;
  uint64_t free_pages = 0;
  /// The snapshot checked.
  uint64_t txnid = 0;
};

/// Checks <dir>/data.mdb of `env` (opened on `dir`, nothing read yet). A read transaction
/// pins the snapshot checked meanwhile, so a writer in another process may go on. Errors:
/// corrupt ("<dir>/data.mdb is damaged: ..." naming the page and what is wrong), io_error.
result<lmdb_file_stats> check_lmdb_file(MDB_env* env, const std::filesystem::path& dir);

} // namespace annal::detail
