// annal rebuild NAME: drops a durable projection's read model and replays the whole log
// into it, offline (the node must be stopped), with a progress bar.
// annal rebuild --all: empties the whole read-model store (every read model, checkpoint,
// parked event, process-manager state and timer), binds it to the journal beside it and
// replays every durable projection: the recovery when the read models belong to another
// journal or are ahead of it (a node refuses to start then). Process managers start
// afresh on the next node start.
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
#include <optional>

#include "annal/log.hpp"
#include "annal/runtime.hpp"
#include "command.hpp"
#include "data_folder.hpp"
#include "interrupt.hpp"
#include "log_line.hpp"
#include "progress_bar.hpp"
#include "store_guard.hpp"

namespace annal::cli {

namespace {

struct rebuild_options {
  std::string name;
  bool all = false;
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

std::string known_names(const domain& catalog) {
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
      bar.message("no progress for 10s at position " + std::to_string(info->position)
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

// Polls every projection of the domain until each reached `head` (they catch up from the
// start of the log after the reset).
outcome<exit_code> follow_all(runtime& rt, const store_guard& guard,
                              const std::vector<std::string>& names, global_position head,
                              progress_bar& bar, log_buffer& logs) {
  for (;;) {
    logs.drain(bar);
    global_position lowest = head;
    for (const auto& name : names) {
      auto info = rt.projection(name);
      if (!info)
        return operation_failure(info.error().to_string());
      if (info->state == projection_state::faulted)
        return operation_failure("projection " + name + " is faulted at position "
                                 + std::to_string(info->faulted_at) + ": " + info->error);
      lowest = std::min(lowest, info->position);
    }
    if (lowest >= head) {
      bar.finish(head, head);
      return exit_code::ok;
    }
    bar.update(lowest, head);
    if (auto other = guard.recheck())
      return failure{other->code, other->message + "; the rebuild stopped at position "
                                    + std::to_string(lowest) + " (consistent: the node "
                                    "resumes it from there)"};
    if (sleep_unless_interrupted(std::chrono::milliseconds(100)))
      return operation_failure("interrupted at position " + std::to_string(lowest) + " of "
                               + std::to_string(head)
                               + "; the read models resume from there when the node starts");
  }
}

// Empties the read-model store and binds it to `journal` (rebuild --all).
std::optional<failure> reset_read_models(const data_folder& folder, event_store& journal) {
  store_options o;
  o.dir = folder.read_models_dir();
  auto rm = read_model_store::open(o);
  if (!rm)
    return store_failure(rm.error());
  if (auto ok = (*rm)->reset(journal); !ok)
    return operation_failure("cannot empty " + o.dir.string() + ": " + ok.error().to_string());
  return std::nullopt;
}

// rebuild --all after the reset: every projection catches up from the start of the log.
outcome<exit_code> follow_everything(context& ctx, runtime& rt, const store_guard& guard,
                                     log_buffer& logs,
                                     std::chrono::steady_clock::time_point started) {
  auto head = rt.store().last_position();
  if (!head)
    return operation_failure(head.error().to_string());
  progress_bar bar{"rebuild all read models", "events", ctx.stderr_is_terminal, std::cerr};
  auto followed = follow_all(rt, guard, ctx.catalog.projections(), *head, bar, logs);
  auto stopped = rt.stop();
  logs.drain(bar);
  if (!followed)
    return followed;
  if (!stopped)
    return operation_failure("the rebuild finished but stopping failed: "
                             + stopped.error().to_string());
  using seconds_d = std::chrono::duration<double>;
  double seconds = seconds_d(std::chrono::steady_clock::now() - started).count();
  for (const auto& name : ctx.catalog.projections())
    ctx.out.object(
      record{}.text("projection", name).number("position", *head).number("seconds", seconds, 3));
  return exit_code::ok;
}

outcome<exit_code> run(context& ctx, const rebuild_options& o) {
  catch_interrupts();
  if (o.all == !o.name.empty())
    return failure{exit_code::usage, "name one projection, or pass --all"};
  if (!o.all && !ctx.catalog.knows_projection(o.name))
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
    if (o.all)
      if (auto f = reset_read_models(*folder, **check))
        return *f;
  }
  log_buffer logs;
  set_log_sink([&logs, program = ctx.program](log_level level, std::string_view message) {
    logs.push(log_line(program, level, message));
  });
  struct restore_sink {
    ~restore_sink() { set_log_sink(nullptr); }
  } restore;
  runtime_config cfg;
  cfg.data_dir = folder->root;
  auto rt = runtime::open(cfg);
  if (!rt)
    return store_failure(rt.error());
  if (!ctx.catalog.installer())
    return operation_failure("the domain names read models but no installer for them");
  if (auto ok = ctx.catalog.installer()(**rt); !ok)
    return operation_failure("cannot register the domain: " + ok.error().to_string());
  if (auto ok = (*rt)->start(); !ok)
    return operation_failure("cannot start: " + ok.error().to_string());
  auto started = std::chrono::steady_clock::now();
  if (o.all)
    return follow_everything(ctx, **rt, **guard, logs, started);
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
  cmd->add_option("name", o->name, "the projection (see annal projections)");
  cmd->add_flag("--all", o->all,
                "empty the whole read-model store (also process-manager state and timers), bind it "
                "to this journal and replay every projection: for read models of another "
                "journal, or ahead of it");
  cmd->callback([&chosen, o] { chosen = [o](context& ctx) { return run(ctx, *o); }; });
}

} // namespace annal::cli
