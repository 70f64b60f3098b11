// annal stats: counts and sizes of a data folder, and streams and events per category.
#include <CLI/CLI.hpp>

#include <map>

#include "command.hpp"
#include "data_folder.hpp"
#include "human_format.hpp"
#include "journal_meta.hpp"

namespace annal::cli {

namespace {

struct category_totals {
  uint64_t streams = 0;
  uint64_t deleted = 0;
  uint64_t events = 0;
};

// Category of a stream: the part before the first '-' ("order-42" -> "order").
std::string category_of(const std::string& stream_id) {
  return stream_id.substr(0, stream_id.find('-'));
}

// Walks the streams table in pages (each its own short read transaction).
result<std::map<std::string, category_totals>> count_categories(event_store& store) {
  std::map<std::string, category_totals> out;
  std::string after;
  for (;;) {
    auto page = store.list_streams("", after, 4096);
    if (!page)
      return std::move(page).error();
    for (const auto& s : *page) {
      auto& c = out[category_of(s.stream_id)];
      ++c.streams;
      if (s.deleted)
        ++c.deleted;
      else
        c.events += s.head - std::min(s.head, s.truncated_through);
    }
    if (page->size() < 4096)
      return out;
    after = page->back().stream_id;
  }
}

// A size in bytes: a number in JSON, human-readable in a table.
void add_size(record& r, const std::string& name, uint64_t bytes) {
  r.number(name, bytes).json_only().text(name, format_bytes(bytes)).table_only();
}

outcome<exit_code> run_stats(context& ctx) {
  auto folder = find_data_folder(ctx.data);
  if (!folder)
    return folder.error();
  auto journal = open_journal(*folder);
  if (!journal)
    return journal.error();
  auto& store = **journal;
  auto st = store.stats();
  if (!st)
    return store_failure(st.error());
  auto meta = read_journal_meta(store);
  if (!meta)
    return store_failure(meta.error());
  auto categories = count_categories(store);
  if (!categories)
    return store_failure(categories.error());
  uint64_t deleted = 0;
  for (const auto& [name, c] : *categories)
    deleted += c.deleted;
  record r;
  r.text("data_folder", folder->root.string())
    .number("format_version", uint64_t{meta->format_version})
    .text("node_id", meta->node_id)
    .number("events", st->events)
    .number("streams", st->streams)
    .number("deleted_streams", deleted)
    .number("categories", uint64_t{categories->size()})
    .number("snapshots", st->snapshots)
    .number("last_position", st->last_position);
  add_size(r, "journal_file", st->file_size);
  add_size(r, "map_size", st->map_size);
  add_size(r, "map_used", st->map_used);
  r.number("map_use_percent",
           st->map_size == 0 ? 0.0 : 100.0 * static_cast<double>(st->map_used)
                                       / static_cast<double>(st->map_size), 1);
  auto read_models = open_read_models(*folder);
  if (!read_models)
    return read_models.error();
  if (*read_models) {
    std::error_code ec;
    auto size = std::filesystem::file_size(folder->read_models_dir() / "data.mdb", ec);
    add_size(r, "read_models_file", ec ? 0 : size);
    auto cps = (*read_models)->checkpoints();
    if (!cps)
      return store_failure(cps.error());
    r.number("checkpoints", uint64_t{cps->size()});
  } else {
    r.null("read_models_file").null("checkpoints");
  }
  std::vector<record> rows;
  for (const auto& [name, c] : *categories)
    rows.push_back(record{}
                     .text("category", name)
                     .number("streams", c.streams)
                     .number("events", c.events)
                     .number("deleted", c.deleted));
  if (ctx.out.json()) {
    r.json("by_category", json_array(rows));
    ctx.out.object(r);
    return exit_code::ok;
  }
  ctx.out.object(r);
  if (!rows.empty()) {
    ctx.out.heading("by category:");
    for (const auto& row : rows)
      ctx.out.row(row);
  }
  return exit_code::ok;
}

} // namespace

void add_stats_command(CLI::App& app, runner& chosen) {
  auto* cmd = app.add_subcommand("stats", "counts and sizes: events, streams per category, "
                                          "snapshots, store and map use, last position");
  cmd->callback([&chosen] { chosen = run_stats; });
}

} // namespace annal::cli
