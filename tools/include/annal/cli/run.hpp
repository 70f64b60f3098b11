// The operator commands of `annal` (docs/cli.md) for any domain: a service ships its own
// admin tool, or an admin subcommand, by calling run with its domain.
//
//   int main(int argc, char** argv) {              // my-service-admin
//     annal::cli::domain d;
//     d.add_aggregate<account>();
//     return annal::cli::run(argc, argv, d);
//   }
//
// As a subcommand of a service's own binary, pass the arguments from the subcommand on:
// `my-service admin --data DIR stats` -> `run(argc - 1, argv + 1, d)` (argv[1], "admin",
// then stands where a program name would).
#pragma once

#include "annal/cli/domain.hpp"

namespace annal::cli {

/// Parses `argv` (argv[0] is the program's name) like the `annal` binary, runs the chosen
/// command on `d` and returns the exit code to return from main (0 ok, 1 problems found or
/// failed, 2 usage, 3 not a store, 4 store in use). Never throws. Process-wide effects:
/// ignores SIGPIPE, sends the library's log lines to stderr, handles SIGINT/SIGTERM in
/// `tail` and `rebuild` (to stop them cleanly).
int run(int argc, char** argv, const domain& d);

} // namespace annal::cli
