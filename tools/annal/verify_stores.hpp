// verify: what is checked before and beside the journal's tables. Each store's file
// structure is checked with plain reads before LMDB may walk it (a damaged file is a
// problem to report, never a crash), and the read models are checked against the journal
// they must reflect.
#pragma once

#include <filesystem>
#include <string_view>

#include "annal/event_store.hpp"
#include "data_folder.hpp"
#include "verify_report.hpp"

namespace annal::cli {

/// Checks the page structure of the store in `dir` (check_store_file); a damaged file is
/// a `file_structure` problem naming `store`. True when the store may be opened.
bool check_file_structure(const std::filesystem::path& dir, std::string_view store,
                          uint64_t& pages, verify_report& report);

/// The read models: they belong to `journal` and no checkpoint lies beyond its last
/// position (a `read_models` problem otherwise). REQUIRES: their file structure passed.
void check_read_models(const data_folder& folder, event_store& journal, verify_report& report);

} // namespace annal::cli
