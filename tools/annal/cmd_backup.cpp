// annal backup DEST: a consistent, compacted copy of a data folder, taken while the node
// keeps running. DEST then holds journal/ and read-models/ like any data folder: restoring
// is pointing a node (or annal) at it with --data DEST.
//
// Order matters: the read models are copied first, the journal second. A checkpoint can
// then never be ahead of the copied journal (it was taken earlier), so after a restore
// each projection just catches up from its checkpoint.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <memory>

#include "command.hpp"
#include "data_folder.hpp"
#include "environment_copy.hpp"
#include "human_format.hpp"

namespace annal::cli {

namespace fs = std::filesystem;

namespace {

struct backup_options {
  std::string dest;
};

// Removes what a failed backup left, so that no half backup looks like a good one.
struct cleanup {
  fs::path dest;
  bool existed = false;
  bool armed = true;
  ~cleanup() {
    if (!armed)
      return;
    std::error_code ec;
    if (existed) {
      fs::remove_all(dest / "journal", ec);
      fs::remove_all(dest / "read-models", ec);
    } else {
      fs::remove_all(dest, ec);
    }
  }
};

bool inside(const fs::path& child, const fs::path& parent) {
  std::error_code ec;
  auto c = fs::weakly_canonical(child, ec);
  auto p = fs::weakly_canonical(parent, ec);
  auto [pi, ci] = std::mismatch(p.begin(), p.end(), c.begin(), c.end());
  return pi == p.end();
}

uint64_t size_of(const fs::path& file) {
  std::error_code ec;
  auto n = fs::file_size(file, ec);
  return ec ? 0 : n;
}

outcome<exit_code> run(context& ctx, const backup_options& o) {
  auto started = std::chrono::steady_clock::now();
  auto folder = find_data_folder(ctx.data);
  if (!folder)
    return folder.error();
  fs::path dest{o.dest};
  std::error_code ec;
  bool existed = fs::exists(dest, ec);
  if (existed && (!fs::is_directory(dest, ec) || !fs::is_empty(dest, ec)))
    return failure{exit_code::usage, "the backup folder " + dest.string() + " must be empty or new"};
  if (inside(dest, folder->root) || inside(folder->root, dest))
    return failure{exit_code::usage, "the backup folder must lie outside the data folder"};
  auto journal = open_journal(*folder);
  if (!journal)
    return journal.error();
  cleanup undo{dest, existed};
  data_folder copy{dest};
  bool has_read_models = folder->has_read_models();
  if (has_read_models)
    if (auto ok = copy_environment(folder->read_models_dir(), "checkpoints", copy.read_models_dir()); !ok)
      return store_failure(ok.error());
  if (auto ok = copy_open_environment((*journal)->native_handle(), copy.journal_dir()); !ok)
    return store_failure(ok.error());
  // Open the copy as a node would: it must be a valid store, and says what it holds.
  auto restored = open_journal(copy);
  if (!restored)
    return operation_failure("the backup does not open: " + restored.error().message);
  auto last = (*restored)->last_position();
  if (!last)
    return operation_failure("the backup does not read: " + last.error().message);
  undo.armed = false;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  record r;
  r.text("backup", dest.string())
    .number("last_position", *last)
    .number("journal_bytes", size_of(copy.journal_dir() / "data.mdb")).json_only()
    .text("journal", format_bytes(size_of(copy.journal_dir() / "data.mdb"))).table_only();
  if (has_read_models)
    r.number("read_models_bytes", size_of(copy.read_models_dir() / "data.mdb")).json_only()
      .text("read_models", format_bytes(size_of(copy.read_models_dir() / "data.mdb"))).table_only();
  else
    r.null("read_models_bytes").json_only().text("read_models", "none (no projection ran yet)").table_only();
  r.number("seconds", seconds, 3)
    .text("restore", "start the node with --data " + dest.string()).table_only();
  ctx.out.object(r);
  return exit_code::ok;
}

} // namespace

void add_backup_command(CLI::App& app, runner& chosen) {
  auto o = std::make_shared<backup_options>();
  auto* cmd = app.add_subcommand(
    "backup", "consistent, compacted online copy of the journal and the read models into DEST; "
              "restore = start the node with --data DEST");
  cmd->add_option("dest", o->dest, "an empty or new folder outside the data folder")->required();
  cmd->callback([&chosen, o] { chosen = [o](context& ctx) { return run(ctx, *o); }; });
}

} // namespace annal::cli
