// annal::cli::run: the operator's window on an Annal data folder (see docs/cli.md).
//
//   PROGRAM --data DIR stats | streams | events STREAM | log | tail | verify | backup DEST |
//                      projections | rebuild NAME | upgrade |
//                      cluster status|move|rebalance|drain --url URL   [--json]
//
// Read-only commands open the stores read-only and are safe beside a running node.
#include "annal/cli/run.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <exception>
#include <filesystem>
#include <iostream>

#include "annal/log.hpp"
#include "command.hpp"
#include "log_line.hpp"
#include "terminal.hpp"

namespace annal::cli {

namespace {

constexpr const char* exit_code_footer =
  "Exit codes: 0 ok; 1 problems found (verify) or the operation failed; 2 usage error;\n"
  "3 no data folder, not an Annal store, or a format this build does not read;\n"
  "4 the store is in use (offline commands).";

int report_failure(const std::string& program, const failure& f) {
  std::cerr << program << ": " << f.message << '\n';
  return static_cast<int>(f.code);
}

// The name in --help: argv[0]'s file name (e.g. my-service-admin), "annal" without one.
std::string program_name(int argc, char** argv) {
  if (argc < 1 || argv[0] == nullptr || *argv[0] == '\0')
    return "annal";
  return std::filesystem::path(argv[0]).filename().string();
}

// The commands themselves; may throw (run turns that into a failure line).
int run_as(const std::string& name, int argc, char** argv, const domain& d);

} // namespace

int run(int argc, char** argv, const domain& d) {
  // Every stderr line starts with the program's name: a service's admin binary is not annal.
  std::string name = "annal";
  try {
    name = program_name(argc, argv);
    return run_as(name, argc, argv, d);
  } catch (const std::exception& e) {
    return report_failure(name, operation_failure(e.what()));
  } catch (...) {
    return report_failure(name, operation_failure("unexpected error"));
  }
}

namespace {

int run_as(const std::string& name, int argc, char** argv, const domain& d) {
  // A closed pipe (annal log | head) ends the output quietly: writes fail, we stop.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"inspect, verify, back up and rebuild an Annal data folder", name};
  app.footer(exit_code_footer);
  app.fallthrough();
  app.require_subcommand(1);
  app.failure_message([name](const CLI::App*, const CLI::Error& e) {
    return name + ": " + e.what() + " (see " + name + " --help)\n";
  });
  std::string data;
  bool json = false;
  app.add_option("-d,--data", data, "the node's data folder (holds journal/ and read-models/)")
    ->envname("ANNAL_DATA");
  app.add_flag("--json", json, "JSON lines on stdout (one object per line) instead of tables");
  runner chosen;
  add_stats_command(app, chosen);
  add_streams_command(app, chosen);
  add_events_command(app, chosen);
  add_log_command(app, chosen);
  add_tail_command(app, chosen);
  add_verify_command(app, chosen);
  add_backup_command(app, chosen);
  add_projections_command(app, chosen);
  add_rebuild_command(app, chosen);
  add_upgrade_command(app, chosen);
  add_cluster_command(app, chosen);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports a misspelt subcommand as a missing one; name what it got instead.
    auto rest = app.remaining();
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && !rest.empty())
      return report_failure(name, {exit_code::usage, "unknown subcommand '" + rest.front()
                                                       + "' (see " + name + " --help)"});
    int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(exit_code::usage);
  }
  // `annal upgrade DIR` names its folder as an argument (--data works too).
  if (auto* up = app.get_subcommand("upgrade"); data.empty() && up->parsed() && up->count("dir") > 0)
    data = up->get_option("dir")->as<std::string>();
  bool needs_data = !app.get_subcommand("cluster")->parsed();
  if (data.empty() && needs_data)
    return report_failure(name, {exit_code::usage, "--data DIR is required (or set ANNAL_DATA)"});
  // Library warnings (e.g. an ignored snapshot) go to stderr as single lines, never stdout.
  annal::set_log_sink([name](annal::log_level level, std::string_view message) {
    std::cerr << log_line(name, level, message) << '\n';
  });
  output out{json ? format::json : format::table, std::cout, json ? 0 : terminal_columns(1)};
  context ctx{data, out, d, is_terminal(2), name};
  auto result = chosen(ctx);
  out.end_table();
  std::cout.flush();
  if (!result)
    return report_failure(name, result.error());
  return static_cast<int>(*result);
}

} // namespace

} // namespace annal::cli
