// Read models equal a rebuild: a child process (this program with --rebuild-into) replays a
// copy of the journal into fresh read models, the same projections a node runs; then the
// shop's tables of the node's read-model store and of the rebuilt one are compared row by
// row. Both stores are opened read-only, with the node stopped.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace annal::soak {

/// The rebuild child's work: copies `data`/journal into `into` (a new folder), runs the
/// shop's read models over it until each reflects the journal head, and stops. Exit code
/// of the child: 0 on success, 1 (and a line on stderr) otherwise.
int rebuild_child(const std::filesystem::path& data, const std::filesystem::path& into,
                  std::chrono::seconds timeout);

/// The rows that differ between the shop tables of `live`/read-models and
/// `rebuilt`/read-models (the first 20, as text); `error` is set when a store cannot be read.
std::vector<std::string> compare_read_models(const std::filesystem::path& live,
                                             const std::filesystem::path& rebuilt, std::string& error);

} // namespace annal::soak
