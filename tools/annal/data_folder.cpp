#include "data_folder.hpp"

namespace annal::cli {

namespace fs = std::filesystem;

namespace {

failure with_place(const fs::path& dir, const error& e) {
  auto f = store_failure(e);
  // LMDB's own messages name the operation, not the folder.
  if (f.message.find(dir.string()) == std::string::npos)
    f.message = dir.string() + ": " + f.message;
  return f;
}

} // namespace

bool data_folder::has_read_models() const {
  std::error_code ec;
  return fs::exists(read_models_dir() / "data.mdb", ec);
}

outcome<data_folder> find_data_folder(const fs::path& root) {
  std::error_code ec;
  auto st = fs::status(root, ec);
  if (ec || !fs::exists(st))
    return failure{exit_code::no_store, "no data folder at " + root.string()};
  if (!fs::is_directory(st))
    return failure{exit_code::no_store, root.string() + " is not a folder"};
  data_folder d{root};
  if (fs::exists(d.journal_dir() / "data.mdb", ec))
    return d;
  if (fs::exists(root / "data.mdb", ec))
    return failure{exit_code::no_store,
                   root.string() + " is an LMDB folder, not a node's data folder (which holds "
                                   "journal/ and read-models/); pass its parent if it is a journal"};
  if (fs::is_directory(d.journal_dir(), ec))
    return failure{exit_code::no_store,
                   root.string() + " holds no journal yet (journal/data.mdb is missing)"};
  return failure{exit_code::no_store,
                 root.string() + " is not an Annal data folder (no journal/ inside)"};
}

outcome<std::unique_ptr<event_store>> open_journal(const std::filesystem::path& root) {
  auto folder = find_data_folder(root);
  if (!folder)
    return folder.error();
  return open_journal(*folder);
}

outcome<std::unique_ptr<event_store>> open_journal(const data_folder& d) {
  store_options o;
  o.dir = d.journal_dir();
  o.read_only = true;
  auto s = event_store::open(o);
  if (!s)
    return with_place(o.dir, s.error());
  return std::move(*s);
}

outcome<std::unique_ptr<read_model_store>> open_read_models(const data_folder& d) {
  if (!d.has_read_models())
    return std::unique_ptr<read_model_store>{};
  store_options o;
  o.dir = d.read_models_dir();
  o.read_only = true;
  auto s = read_model_store::open(o);
  if (!s)
    return with_place(o.dir, s.error());
  return std::move(*s);
}

} // namespace annal::cli
