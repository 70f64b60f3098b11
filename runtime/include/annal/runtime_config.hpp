// Settings of an embedded Annal runtime. Every field has a sensible default; a runtime
// that owns its actor system also reads them from CAF's command line and config file
// (group "annal", e.g. --annal.data-dir=/var/lib/shop --annal.durability=no_sync).
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "annal/event_bus_options.hpp"
#include "annal/journal_writer_options.hpp"
#include "annal/store_options.hpp"

namespace caf {
class actor_system_config;
}

namespace annal {

class event_store;

struct runtime_config {
  /// Folder of the stores: <data_dir>/journal and <data_dir>/read-models.
  std::filesystem::path data_dir = "annal-data";
  /// durable (fsync per commit, the default) or no_sync (explicit opt-in, see durability).
  durability mode = durability::durable;
  /// Map growth of each LMDB environment: starting size and cap (storage_full beyond).
  std::size_t initial_map_size = std::size_t{64} << 20;
  std::size_t max_map_size = std::size_t{1} << 40;
  /// Snapshots kept per stream.
  std::size_t snapshots_to_keep = 3;
  /// Rehydrations that may run at once (each on its own loader thread).
  std::size_t recovery_permits = 4;
  /// Group-commit bounds and test hooks of the journal writer.
  journal_writer_options writer;
  /// Bounds of the event bus's per-subscriber buffers (beyond: back to catch-up reading).
  event_bus_options bus;
  /// In a cluster: how long process managers hold back the events of a shard this node
  /// took over until its old owner's process state arrived; past it (the old owner gone
  /// for good) they handle them without it, logged.
  std::chrono::milliseconds process_state_wait = std::chrono::minutes(5);
  /// Arguments for CAF and the "annal" option group (only when the runtime owns its actor
  /// system), e.g. {"--scheduler.max-threads=2"}.
  std::vector<std::string> caf_args;
  /// CAF config file to read (only when the runtime owns its actor system; empty: none).
  std::string caf_config_file;
  /// Runs on the CAF configuration before it is parsed (only when the runtime owns its
  /// actor system), e.g. to load CAF's network layer for a cluster (annal::cluster).
  std::function<void(caf::actor_system_config&)> caf_setup;
  /// Wraps the journal once opened (empty: used as opened). A test hook: the test kit's
  /// faulty_journal (annal/testing/faulty_journal.hpp) decorates it to inject faults.
  std::function<std::unique_ptr<event_store>(std::unique_ptr<event_store>)> wrap_journal;
};

} // namespace annal
