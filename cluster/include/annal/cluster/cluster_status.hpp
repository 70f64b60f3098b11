// What one node knows about its cluster: members, the health of its links to them, and the
// shard map. Rendered as JSON by GET /cluster/status of the shop node and `annal cluster
// status`. Thread safety: values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "annal/cluster/shard_map.hpp"

namespace annal::cluster {

/// The state of this node's link to a peer.
enum class link_state : uint8_t {
  /// Not connected; a reconnect is scheduled (bounded backoff).
  down,
  /// Connecting or proving the secret.
  connecting,
  /// Connected and both sides proved the secret: commands are forwarded.
  up,
  /// The peer did not prove the secret (or refused ours); retried like down.
  refused,
};

/// "down", "connecting", "up", "refused".
const char* to_string(link_state s) noexcept;

struct member_status {
  std::string id;
  std::string host;
  uint16_t port = 0;
  /// Joined the running cluster (the cluster file's "joins", or it said so joining).
  bool joins = false;
  /// True for the node that answers.
  bool self = false;
  /// For self: always up.
  link_state state = link_state::down;
  /// Why the last attempt failed (empty when up).
  std::string last_error;
  /// Successful handshakes with this peer so far (a reconnect counts again).
  uint64_t connects = 0;
  /// Shards the member owns.
  std::size_t shards = 0;
};

struct cluster_status {
  std::string node_id;
  /// True when the links between nodes use TLS.
  bool tls = false;
  std::vector<member_status> members;
  shard_map shards;
  /// Shards this node took over whose previous owner has not yet handed it their
  /// process-manager state and timers: they do not move on until it did.
  std::vector<uint16_t> awaiting_process_state;
};

/// {"node": .., "tls": .., "shard_count": .., "members": [{id, host, port, self, health, last_error,
/// connects, shards}], "shards": [{"shard": s, "owner": .., "epoch": ..}],
/// "awaiting_process_state": [s, ..]}
std::string to_json(const cluster_status& s);

} // namespace annal::cluster
