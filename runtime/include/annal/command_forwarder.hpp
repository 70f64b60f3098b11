// The hook through which a cluster layer (cluster/, issue 12) takes the commands whose
// aggregate another node owns. The runtime knows no network: it asks the forwarder, once per
// command, whether the aggregate's stream is remote, and hands it over serialized if so.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "annal/command_options.hpp"

namespace annal {

/// A command in the form that crosses nodes: the aggregate's category (its type name) and
/// id, the command's cereal bytes, and its options (options.timeout: what remains of its
/// deadline).
struct forwarded_command {
  std::string category;
  std::string aggregate_id;
  std::string stream_id;
  std::string command_bytes;
  command_options options;
};

/// Decides where commands run. Thread safety: every function is called from any thread
/// that sends commands or fires timers, concurrently.
class command_forwarder {
public:
  virtual ~command_forwarder() = default;
  /// True when commands for `stream_id` run on another node; forward() then takes them.
  virtual bool is_remote(std::string_view stream_id) const = 0;
  /// Sends `cmd` to the node that owns it; `done` runs exactly once, with the owner's
  /// outcome or with errc::unavailable (owner unreachable, no reply in time).
  virtual void forward(forwarded_command cmd, std::function<void(command_result)> done) = 0;
  /// True when this node owns journal shard `shard`: the durable timers that process
  /// managers scheduled while handling its events fire here, and nowhere else. The
  /// default (every shard) suits a forwarder that does not move shards.
  virtual bool owns_shard(uint16_t shard) const {
    (void)shard;
    return true;
  }
};

} // namespace annal
