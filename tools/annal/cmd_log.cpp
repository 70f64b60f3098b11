// annal log: the global log in commit order, with each event's stream and metadata.
#include <CLI/CLI.hpp>

#include <memory>

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
    auto n = store.read_all(after, want, [&](const event_view& e) {
      ctx.out.row(event_record(e, ctx.catalog.registry()));
      after = e.position;
      return ctx.out.good();
    });
    if (!n)
      return store_failure(n.error());
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
