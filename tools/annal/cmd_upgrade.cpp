// annal upgrade [DIR]: upgrades the journal of a data folder to the current format (3) in
// place, with a progress bar. Offline: refused while a node or another tool has the folder
// open. Safe to interrupt (even kill -9): the journal stays readable and the next upgrade,
// or the node's next open, continues where this one stopped.
#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>
#include <memory>

#include "command.hpp"
#include "data_folder.hpp"
#include "journal_meta.hpp"
#include "progress_bar.hpp"
#include "store_guard.hpp"

namespace annal::cli {

namespace {

struct upgrade_options {
  std::string dir;
};

outcome<exit_code> run(context& ctx, const upgrade_options& o) {
  auto folder = find_data_folder(o.dir.empty() ? ctx.data : std::filesystem::path{o.dir});
  if (!folder)
    return folder.error();
  auto guard = store_guard::acquire(*folder);
  if (!guard)
    return guard.error();
  uint32_t before = 0;
  {
    auto journal = open_journal(*folder); // read-only: checks it is a journal we read
    if (!journal)
      return journal.error();
    auto meta = read_journal_meta(**journal);
    if (!meta)
      return store_failure(meta.error());
    before = meta->format_version;
  }
  progress_bar bar{"upgrade the journal", "events", ctx.stderr_is_terminal, std::cerr};
  auto started = std::chrono::steady_clock::now();
  uint64_t events = 0;
  store_options so;
  so.dir = folder->journal_dir();
  auto ok = event_store::upgrade(so, [&](uint64_t done, uint64_t total) {
    events = total;
    bar.update(done, total);
  });
  if (!ok)
    return store_failure(ok.error());
  bar.finish(events, events);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ctx.out.object(record{}
                   .number("format_before", static_cast<uint64_t>(before))
                   .number("format", static_cast<uint64_t>(supported_format_version()))
                   .number("events", events)
                   .number("seconds", seconds, 3));
  return exit_code::ok;
}

} // namespace

void add_upgrade_command(CLI::App& app, runner& chosen) {
  auto o = std::make_shared<upgrade_options>();
  auto* cmd = app.add_subcommand(
    "upgrade", "upgrade the journal to the current format in place (format 2 to 3: each "
               "event gets its shard and shard position); offline, resumable after an "
               "interruption");
  cmd->add_option("dir", o->dir, "the data folder (default: --data)");
  cmd->callback([&chosen, o] { chosen = [o](context& ctx) { return run(ctx, *o); }; });
}

} // namespace annal::cli
