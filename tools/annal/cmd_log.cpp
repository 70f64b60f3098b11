// annal log: the global log in commit order, with each event's stream and metadata.
#include <CLI/CLI.hpp>

#include <memory>
#include <vector>

#include "command.hpp"
#include "data_folder.hpp"
#include "event_record.hpp"

namespace annal::cli {

namespace {

struct log_options {
  global_position after = 0;
  uint64_t limit = 100;
};

outcome<exit_code> run(context& ctx, const log_options& o) {
  auto journal = open_journal(ctx.data);
  if (!journal)
    return journal.error();
  auto& store = **journal;
  constexpr uint64_t chunk = 1024;
  uint64_t left = o.limit == 0 ? std::numeric_limits<uint64_t>::max() : o.limit;
  global_position after = o.after;
  while (left > 0) {
    auto want = std::min(left, chunk);
    // Rendered inside the read, printed after it: a slow reader of our stdout must not
    // keep a journal transaction open (it would pin the node's old pages).
    std::vector<record> rows;
    auto n = store.read_all(after, want, [&](const event_view& e) {
      rows.push_back(event_record(e, ctx.catalog.registry()));
      after = e.position;
      return true;
    });
    if (!n)
      return store_failure(n.error());
    for (const auto& r : rows)
      ctx.out.row(r);
    if (!ctx.out.good())
      break;
    left -= *n;
    if (*n < want)
      break;
  }
  return exit_code::ok;
}

} // namespace

void add_log_command(CLI::App& app, runner& chosen) {
  auto o = std::make_shared<log_options>();
  auto* cmd = app.add_subcommand("log", "the global log in commit order, with metadata");
  cmd->add_option("--after", o->after, "start after this global position")->capture_default_str();
  cmd->add_option("--limit", o->limit, "at most this many (0: all)")->capture_default_str();
  cmd->callback([&chosen, o] { chosen = [o](context& ctx) { return run(ctx, *o); }; });
}

} // namespace annal::cli
