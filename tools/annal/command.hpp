// The frame every subcommand plugs into: main() parses the command line with CLI11, the
// chosen subcommand's runner runs with a context, and its outcome becomes the exit code.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "annal/cli/domain.hpp"
#include "exit_code.hpp"
#include "output.hpp"

namespace CLI {
class App;
}

namespace annal::cli {

/// What a runner gets: the global options, the output and the domain of this build.
struct context {
  /// --data: the node's data folder.
  std::filesystem::path data;
  output& out;
  const domain& catalog;
  /// True when stderr is a terminal (progress bars instead of progress lines).
  bool stderr_is_terminal = false;
  /// The running program's name ("annal", "my-service-admin"): it starts stderr lines.
  std::string program = "annal";
};

/// Runs a parsed subcommand: exit_code::ok, exit_code::failed when it already reported
/// why (verify's problems), or a failure whose one-line message main() prints.
using runner = std::function<outcome<exit_code>(context&)>;

/// Each adds its subcommand to `app`; when it is chosen, its runner lands in `chosen`.
void add_stats_command(CLI::App& app, runner& chosen);
void add_streams_command(CLI::App& app, runner& chosen);
void add_events_command(CLI::App& app, runner& chosen);
void add_log_command(CLI::App& app, runner& chosen);
void add_tail_command(CLI::App& app, runner& chosen);
void add_verify_command(CLI::App& app, runner& chosen);
void add_backup_command(CLI::App& app, runner& chosen);
void add_projections_command(CLI::App& app, runner& chosen);
void add_rebuild_command(CLI::App& app, runner& chosen);
void add_upgrade_command(CLI::App& app, runner& chosen);
/// `annal cluster status|move|rebalance|drain --url URL`: reads and drives a node over
/// HTTP, needs no --data.
void add_cluster_command(CLI::App& app, runner& chosen);

} // namespace annal::cli
