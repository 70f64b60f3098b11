// annal rebuild NAME: drops a durable projection's read model and replays the whole log
// into it, offline (the node must be stopped), with a progress bar.
//
// It runs the projection exactly as a node does: an Annal runtime on the data folder with
// the domain's aggregates and read models registered (no process managers: nothing here
// sends commands), then runtime::rebuild_projection, polled for rebuild_done/total. Each
// batch commits the read model and the checkpoint together, so an interrupted rebuild
// leaves a consistent projection that a node simply resumes.
#include <CLI/CLI.hpp>

#include <chrono>
#include <memory>
#include <mutex>

#include "annal/log.hpp"
#include "annal/runtime.hpp"
#include "command.hpp"
#include "data_folder.hpp"
#include "interrupt.hpp"
#include "progress_bar.hpp"
#include "store_guard.hpp"

namespace annal::cli {

namespace {

struct rebuild_options {
  std::string name;
};

// Library log lines arrive on actor threads; the polling thread prints them between
// redraws of the bar.
class log_buffer {
public:
  void push(std::string line) {
    std::lock_guard<std::mutex> guard{mx_};
    lines_.push_back(std::move(line));
  }
  void drain(progress_bar& bar) {
    std::vector<std::string> lines;
    {
      std::lock_guard<std::mutex> guard{mx_};
      lines.swap(lines_);
    }
    for (const auto& l : lines)
      bar.message(l);
  }

private:
  std::mutex mx_;
  std::vector<std::string> lines_;
};

std::string known_names(const domain_catalog& catalog) {
  std::string s;
  for (const auto& n : catalog.projections())
    s += (s.empty() ? "" : ", ") + n;
  return s.empty() ? "none" : s;
}

// Polls the projection until its rebuild reached the log's end captured at its start.
outcome<exit_code> follow(runtime& rt, const store_guard& guard,
                          const std::string& name, progress_bar& bar, log_buffer& logs,
                          uint64_t& total) {
  // A handler that keeps failing makes the projection retry (with backoff) before it
  // gives up: say so instead of looking stuck.
  constexpr auto stall_warning = std::chrono::seconds(10);
  auto last_move = std::chrono::steady_clock::now();
  global_position last_position = 0;
  bool warned = false;
  for (;;) {
    logs.drain(bar);
    auto info = rt.projection(name);
    if (!info)
      return operation_failure(info.error().to_string());
    total = info->rebuild_total;
    if (info->state == projection_state::faulted)
      return operation_failure("projection " + name + " is faulted at position "
                               + std::to_string(info->faulted_at) + ": " + info->error);
    if (info->rebuild_done >= info->rebuild_total && info->position >= info->rebuild_total) {
      bar.finish(info->rebuild_total, info->rebuild_total);
      return exit_code::ok;
    }
    auto now = std::chrono::steady_clock::now();
    if (info->position != last_position) {
      last_position = info->position;
      last_move = now;
    } else if (!warned && now - last_move > stall_warning) {
      bar.message("annal: no progress for 10s at position " + std::to_string(info->position)
                  + ": the projection may be retrying an event its handler refuses");
      warned = true;
    }
    bar.update(info->rebuild_done, info->rebuild_total);
    if (auto other = guard.recheck())
      return failure{other->code, other->message + "; the rebuild stopped at position "
                                    + std::to_string(info->position) + " (consistent: the node "
                                    "resumes it from there)"};
    if (sleep_unless_interrupted(std::chrono::milliseconds(100)))
      return operation_failure("interrupted at position " + std::to_string(info->position)
                               + " of " + std::to_string(info->rebuild_total)
                               + "; the projection resumes from there when the node starts");
  }
}

outcome<exit_code> run(context& ctx, const rebuild_options& o) {
  catch_interrupts();
  if (!ctx.catalog.knows_projection(o.name))
    return failure{exit_code::usage, "no durable projection '" + o.name
                                       + "' in this build (known: " + known_names(ctx.catalog) + ")"};
  auto folder = find_data_folder(ctx.data);
  if (!folder)
    return folder.error();
  // Declared before the runtime: it must outlive every store handle of this process.
  auto guard = store_guard::acquire(*folder);
  if (!guard)
    return guard.error();
  {
    // The runtime opens the journal for writing: make sure first that it is a journal
    // this build reads, so that nothing is created or changed in a wrong folder.
    auto check = open_journal(*folder);
    if (!check)
      return check.error();
  }
  log_buffer logs;
  set_log_sink([&logs](log_level level, std::string_view message) {
    logs.push("annal: " + std::string{to_string(level)} + ": " + std::string{message});
  });
  struct restore_sink {
    ~restore_sink() { set_log_sink(nullptr); }
  } restore;
  runtime_config cfg;
  cfg.data_dir = folder->root;
  auto rt = runtime::open(cfg);
  if (!rt)
    return store_failure(rt.error());
  if (auto ok = ctx.catalog.installer()(**rt); !ok)
    return operation_failure("cannot register the domain: " + ok.error().to_string());
  if (auto ok = (*rt)->start(); !ok)
    return operation_failure("cannot start: " + ok.error().to_string());
  auto started = std::chrono::steady_clock::now();
  if (auto ok = (*rt)->rebuild_projection(o.name); !ok)
    return operation_failure("cannot rebuild " + o.name + ": " + ok.error().to_string());
  progress_bar bar{"rebuild " + o.name, "events", ctx.stderr_is_terminal, std::cerr};
  uint64_t total = 0;
  auto followed = follow(**rt, **guard, o.name, bar, logs, total);
  auto stopped = (*rt)->stop();
  logs.drain(bar);
  if (!followed)
    return followed;
  if (!stopped)
    return operation_failure("the rebuild finished but stopping failed: " + stopped.error().to_string());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ctx.out.object(record{}
                   .text("projection", o.name)
                   .number("position", total)
                   .number("seconds", seconds, 3)
                   .number("events_per_second", seconds > 0 ? static_cast<double>(total) / seconds : 0.0, 0));
  return exit_code::ok;
}

} // namespace

void add_rebuild_command(CLI::App& app, runner& chosen) {
  auto o = std::make_shared<rebuild_options>();
  auto* cmd = app.add_subcommand("rebuild", "offline: drop a durable projection's read model and "
                                            "replay the log into it (the node must be stopped)");
  cmd->add_option("name", o->name, "the projection (see annal projections)")->required();
  cmd->callback([&chosen, o] { chosen = [o](context& ctx) { return run(ctx, *o); }; });
}

} // namespace annal::cli
