// A node's data folder (runtime_config::data_dir): <root>/journal holds the event store,
// <root>/read-models the read models and checkpoints. Opening either here maps every
// error to one line and an exit code (see exit_code.hpp).
#pragma once

#include <filesystem>
#include <memory>

#include "annal/event_store.hpp"
#include "annal/read_model_store.hpp"
#include "exit_code.hpp"

namespace annal::cli {

struct data_folder {
  std::filesystem::path root;

  std::filesystem::path journal_dir() const { return root / "journal"; }
  std::filesystem::path read_models_dir() const { return root / "read-models"; }
  /// True when the read-model environment exists (a node created it on its first start).
  bool has_read_models() const;
};

/// Checks that `root` exists and holds a journal. Failure (no_store): no such folder, or
/// a folder without journal/ (with a hint when `root` is itself an LMDB folder).
outcome<data_folder> find_data_folder(const std::filesystem::path& root);

/// Opens the journal read-only: safe while a node writes to it (LMDB readers never block
/// the writer and see only committed transactions). Failure (no_store): not an Annal
/// journal, or one of a format this build does not read.
outcome<std::unique_ptr<event_store>> open_journal(const data_folder& d);

/// find_data_folder(root), then open_journal: for commands that need only the journal.
outcome<std::unique_ptr<event_store>> open_journal(const std::filesystem::path& root);

/// Opens the read models read-only; holds nullptr when the folder has none yet.
outcome<std::unique_ptr<read_model_store>> open_read_models(const data_folder& d);

} // namespace annal::cli
