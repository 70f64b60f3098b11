// annal tail: follows the global log, printing events as they are committed, until
// interrupted (Ctrl-C). LMDB cannot notify another process of a commit, so it polls:
// one short read transaction per interval, which never blocks the node's writer.
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <vector>

#include "command.hpp"
#include "data_folder.hpp"
#include "event_record.hpp"
#include "interrupt.hpp"

namespace annal::cli {

namespace {

struct tail_options {
  bool has_after = false;
  global_position after = 0;
  unsigned interval_ms = 100;
};

outcome<exit_code> run(context& ctx, const tail_options& o) {
  catch_interrupts();
  auto journal = open_journal(ctx.data);
  if (!journal)
    return journal.error();
  auto& store = **journal;
  global_position after = o.after;
  if (!o.has_after) {
    auto last = store.last_position();
    if (!last)
      return store_failure(last.error());
    after = *last; // like tail -f of a new file: only what is committed from now on
  }
  // On stderr, so that stdout stays pure JSON lines with --json.
  std::cerr << ctx.program << ": tail: following after position " << after << " (Ctrl-C to stop)"
            << std::endl;
  constexpr uint64_t chunk = 1024;
  while (!interrupted() && ctx.out.good()) {
    // Rendered inside the read, printed after it (see cmd_log.cpp).
    std::vector<record> rows;
    auto n = store.read_all(after, chunk, [&](const event_view& e) {
      rows.push_back(event_record(e, ctx.catalog.registry()));
      after = e.position;
      return true;
    });
    if (!n)
      return store_failure(n.error());
    for (const auto& r : rows)
      ctx.out.row(r);
    if (*n > 0)
      ctx.out.flush();
    if (*n < chunk)
      sleep_unless_interrupted(std::chrono::milliseconds(o.interval_ms));
  }
  return exit_code::ok;
}

} // namespace

void add_tail_command(CLI::App& app, runner& chosen) {
  auto o = std::make_shared<tail_options>();
  auto* cmd = app.add_subcommand("tail", "follow new events as they are committed, until "
                                         "interrupted (Ctrl-C)");
  auto* after = cmd->add_option("--after", o->after,
                                "start after this global position (default: the current end)");
  cmd->add_option("--interval-ms", o->interval_ms, "how often to look for new events")
    ->capture_default_str()
    ->check(CLI::Range(1u, 60000u));
  cmd->callback([&chosen, o, after] {
    o->has_after = after->count() > 0;
    chosen = [o](context& ctx) { return run(ctx, *o); };
  });
}

} // namespace annal::cli
