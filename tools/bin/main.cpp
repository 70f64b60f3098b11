// annal: the operator CLI shipped with Annal, annal::cli::run over the sample shop's domain
// (see docs/cli.md). Events and snapshots of other domains are shown and checked generically.
#include "annal/cli/run.hpp"
#include "shipped_domain.hpp"

int main(int argc, char** argv) {
  return annal::cli::run(argc, argv, annal::cli::shipped_domain());
}
