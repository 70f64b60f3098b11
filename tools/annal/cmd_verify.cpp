// annal verify: checks both stores of a data folder and reports each problem it finds:
// the page structure of each file first (with plain reads: a damaged file is a problem,
// never a crash), then every invariant of the journal, then the read models against the
// journal. The table walks run inside ONE read transaction, so a node may keep writing
// meanwhile: verify sees the state of one instant. Exit code 1 when any problem was found.
#include <CLI/CLI.hpp>

#include <memory>

#include "command.hpp"
#include "data_folder.hpp"
#include "journal_checks.hpp"
#include "annal/layout/lmdb_error.hpp"
#include "verify_stores.hpp"

namespace annal::cli {

namespace {

struct verify_options {
  uint64_t sample = 100;
};

// Every-n-th snapshot so that about `sample` of `total` are replayed (0: all).
uint64_t stride_for(uint64_t total, uint64_t sample) {
  if (sample == 0 || total <= sample)
    return 1;
  return (total + sample - 1) / sample;
}

status walk_tables(event_store& store, const domain& catalog, uint64_t sample,
                   std::vector<snapshot_record>& sampled, verify_report& report) {
  auto t = raw_read_txn::begin(store.native_handle());
  if (!t)
    return std::move(t).error();
  auto tables = open_journal_tables(*t);
  if (!tables)
    return std::move(tables).error();
  auto meta = read_journal_meta(*t);
  if (!meta)
    return std::move(meta).error();
  if (auto ok = check_meta(*meta, report); !ok)
    return ok;
  if (auto ok = check_events(*t, *tables, catalog.registry(), report); !ok)
    return ok;
  if (auto ok = check_streams(*t, *tables, report); !ok)
    return ok;
  if (auto ok = check_trimmed(*t, *tables, report); !ok)
    return ok;
  MDB_stat st{};
  if (int rc = mdb_stat(t->get(), tables->snapshots, &st); rc != 0)
    return layout::lmdb_error(rc, "mdb_stat");
  return check_snapshots(*t, *tables, catalog, stride_for(st.ms_entries, sample), sampled, report);
}

outcome<exit_code> run(context& ctx, const verify_options& o) {
  auto folder = find_data_folder(ctx.data);
  if (!folder)
    return folder.error();
  verify_report report{ctx.out};
  bool journal_readable = check_file_structure(folder->journal_dir(), "journal",
                                               report.counts.journal_pages, report);
  bool read_models_readable =
    folder->has_read_models()
    && check_file_structure(folder->read_models_dir(), "read-models",
                            report.counts.read_model_pages, report);
  if (journal_readable) {
    auto journal = open_journal(*folder);
    if (!journal)
      return journal.error();
    auto& store = **journal;
    std::vector<snapshot_record> sampled;
    if (auto ok = walk_tables(store, ctx.catalog, o.sample, sampled, report); !ok)
      return operation_failure("verify stopped: " + ok.error().to_string());
    replay_sampled(store, ctx.catalog, sampled, report);
    if (read_models_readable)
      check_read_models(*folder, store, report);
  }
  report.finish();
  return report.problems() == 0 ? exit_code::ok : exit_code::failed;
}

} // namespace

void add_verify_command(CLI::App& app, runner& chosen) {
  auto o = std::make_shared<verify_options>();
  auto* cmd = app.add_subcommand(
    "verify", "check both stores: their file structure, every invariant of the journal "
              "(versions, index, positions, checksums, payloads, snapshots) and the read models "
              "against the journal; exit 1 when a problem is found");
  cmd->add_option("--sample", o->sample,
                  "snapshots of known types to check by replay (0: all)")
    ->capture_default_str();
  cmd->callback([&chosen, o] { chosen = [o](context& ctx) { return run(ctx, *o); }; });
}

} // namespace annal::cli
