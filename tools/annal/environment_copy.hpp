// Consistent, compacted copies of LMDB environments while a node keeps writing to them:
// mdb_env_copy2 with MDB_CP_COMPACT copies inside one read transaction (it never blocks
// the writer) and leaves out free pages.
#pragma once

#include <filesystem>

#include "annal/result.hpp"

namespace annal::cli {

/// Copies the open environment `env` (an MDB_env*) into the empty folder `dest`,
/// creating it. A map grown by a writer meanwhile is adopted and the copy retried.
/// REQUIRES: no transaction of this process is active on `env`. Errors: io_error,
/// storage_full (disk), bad_request (`dest` not empty).
status copy_open_environment(void* env, const std::filesystem::path& dest);

/// Opens the environment in `src` read-only just for the copy, after checking that it
/// holds table `must_have` (e.g. "checkpoints" for read models). Errors: those of
/// copy_open_environment, corrupt (not such a store).
/// REQUIRES: this process has no other handle on `src` open (LMDB's rule).
status copy_environment(const std::filesystem::path& src, const char* must_have,
                        const std::filesystem::path& dest);

} // namespace annal::cli
