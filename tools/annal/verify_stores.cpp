#include "verify_stores.hpp"

#include "annal/read_model_store.hpp"
#include "annal/store_file_check.hpp"

namespace annal::cli {

bool check_file_structure(const std::filesystem::path& dir, std::string_view store,
                          uint64_t& pages, verify_report& report) {
  auto checked = check_store_file(dir);
  if (checked) {
    pages = checked->file_pages;
    return true;
  }
  report.add(problem{"file_structure", {}, 0, 0,
                     std::string{store} + ": " + checked.error().message});
  return false;
}

void check_read_models(const data_folder& folder, event_store& journal, verify_report& report) {
  auto add = [&](std::string message) {
    report.add(problem{"read_models", {}, 0, 0, std::move(message)});
  };
  auto rm = open_read_models(folder);
  if (!rm) {
    add(rm.error().message);
    return;
  }
  // Read-only: checks the binding and the checkpoints, writes nothing.
  if (auto ok = (*rm)->bind_journal(journal); !ok)
    add(ok.error().message);
}

} // namespace annal::cli
