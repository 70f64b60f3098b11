// annal projections: every projection's checkpoint (from the read-model store) against the
// journal's head, offline or beside a running node. The lag is in global positions: an
// upper bound on the events still to apply, since a durable projection does not move its
// checkpoint for batches that hold none of its events.
#include <CLI/CLI.hpp>

#include <map>
#include <set>

#include "annal/durable_projection.hpp"
#include "command.hpp"
#include "data_folder.hpp"
#include "human_format.hpp"
#include "store_guard.hpp"

namespace annal::cli {

namespace {

// Parked (skipped) events per projection: keys are name, NUL, big-endian position.
result<std::map<std::string, uint64_t>> count_parked(read_model_store& rm) {
  std::map<std::string, uint64_t> out;
  auto table = rm.table(parked_table_name);
  if (!table)
    return table.error().code == errc::not_found ? result<std::map<std::string, uint64_t>>{out}
                                                 : std::move(table).error();
  auto ok = rm.read([&](const read_model_txn& t) {
    return t.scan(*table, "", [&](std::string_view key, std::string_view) {
      ++out[std::string{key.substr(0, key.find('\0'))}];
      return true;
    });
  });
  if (!ok)
    return std::move(ok).error();
  return out;
}

const char* status_of(global_position checkpoint, global_position head, bool has_checkpoint) {
  if (!has_checkpoint)
    return "not started";
  if (checkpoint == head)
    return "current";
  return checkpoint < head ? "behind" : "ahead of the journal";
}

outcome<exit_code> run_projections(context& ctx) {
  auto folder = find_data_folder(ctx.data);
  if (!folder)
    return folder.error();
  // Before this process opens anything (see store_guard.hpp).
  auto node = process_using(folder->journal_dir());
  auto journal = open_journal(*folder);
  if (!journal)
    return journal.error();
  auto& store = **journal;
  auto head = store.last_position();
  if (!head)
    return store_failure(head.error());
  auto read_models = open_read_models(*folder);
  if (!read_models)
    return read_models.error();
  std::map<std::string, global_position> checkpoints;
  std::map<std::string, uint64_t> parked;
  if (*read_models) {
    auto cps = (*read_models)->checkpoints();
    if (!cps)
      return store_failure(cps.error());
    checkpoints.insert(cps->begin(), cps->end());
    auto p = count_parked(**read_models);
    if (!p)
      return store_failure(p.error());
    parked = std::move(*p);
  }
  std::set<std::string> names;
  for (const auto& [name, cp] : checkpoints)
    names.insert(name);
  for (const auto& name : ctx.catalog.projections())
    names.insert(name);
  if (!ctx.out.json() && node)
    ctx.out.heading("process " + std::to_string(*node) + " has the store open (a running node?): "
                    "its projections may be ahead of these checkpoints");
  auto now = now_ns();
  for (const auto& name : names) {
    auto i = checkpoints.find(name);
    bool has = i != checkpoints.end();
    global_position cp = has ? i->second : 0;
    uint64_t behind = *head > cp ? *head - cp : 0;
    record r;
    r.text("name", name).number("checkpoint", cp).number("head", *head).number("behind", behind);
    // The age of the oldest event not applied yet.
    double lag_ms = 0;
    if (behind > 0) {
      auto next = store.read_all(cp, 1);
      if (next && !next->empty())
        lag_ms = static_cast<double>(now - next->front().timestamp) / 1e6;
    }
    r.number("lag_ms", lag_ms, 0).json_only()
      .text("lag", behind > 0 ? format_duration(lag_ms / 1000) : "-").table_only()
      .number("parked", parked.count(name) ? parked[name] : uint64_t{0})
      .text("status", status_of(cp, *head, has))
      .boolean("rebuildable", ctx.catalog.knows_projection(name));
    if (node)
      r.number("node_pid", static_cast<uint64_t>(*node)).json_only();
    else
      r.null("node_pid").json_only();
    ctx.out.row(r);
  }
  return exit_code::ok;
}

} // namespace

void add_projections_command(CLI::App& app, runner& chosen) {
  auto* cmd = app.add_subcommand("projections", "checkpoints, lag behind the journal and parked "
                                                "events of every projection and process manager");
  cmd->callback([&chosen] { chosen = run_projections; });
}

} // namespace annal::cli
