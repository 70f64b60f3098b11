// The static description of a cluster (issue 12): its members, its number of
// shards, who owns each shard at which epoch, and where the shared secret comes from. Read
// from a JSON file that every node shares; the node's own id comes from its command line.
//
//   {
//     "shard_count": 64,                       optional, default 64 (= store_options)
//     "forward_timeout_ms": 1000,              optional: bound of a forwarded command
//     "move_timeout_ms": 60000,                optional: bound of a shard move's copy
//     "heartbeat_ms": 250,                     optional: CAF heartbeat between nodes
//     "connection_timeout_ms": 2000,           optional: a peer silent this long is cut
//     "secret_file": "/etc/shop/cluster.key",  or "secret_env": "SHOP_CLUSTER_SECRET"
//     "members": [ {"id": "a", "host": "127.0.0.1", "port": 7101}, ...,
//                  {"id": "d", ..., "joins": true} ],  d joined a running cluster: the
//                                              initial map gives it no shard (it takes
//                                              its share by rebalancing, as moves)
//     "shards": { "17": {"owner": "b", "epoch": 2} },  optional overrides
//     "tls": {"certificate": "/etc/shop/{node}.pem",   optional: TLS between nodes;
//             "key": "/etc/shop/{node}.key",           {node} is the node's own id
//             "ca_file": "/etc/shop/cluster-ca.pem"}    peers must hold a cert it signed
//   }
//
// Thread safety: plain values.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "annal/cluster/shard_map.hpp"
#include "annal/result.hpp"

namespace annal::cluster {

/// The PEM files of TLS between nodes (libcaf_openssl): this node's certificate (chain) and
/// private key, and the CA whose signature a peer's certificate must carry.
struct tls_files {
  std::filesystem::path certificate;
  std::filesystem::path key;
  std::filesystem::path ca_file;
};

/// One node of the cluster and the address its cluster endpoint listens on.
struct member {
  std::string id;
  std::string host;
  uint16_t port = 0;
  /// Joined a running cluster: the initial shard map (shard_map::assign) leaves it out,
  /// so every node computes the map the founding members started with.
  bool joins = false;
};

struct cluster_config {
  /// This node's id (one of members).
  std::string node_id;
  std::vector<member> members;
  /// Who owns which shard (its size is the cluster's shard count).
  shard_map shards;
  /// Longest wait for a forwarded command's reply (or its own deadline, if sooner).
  std::chrono::milliseconds forward_timeout{1000};
  /// Longest wait for the new owner to copy a moving shard (each of the move's two copies).
  std::chrono::milliseconds move_timeout{60000};
  /// How often nodes send each other a heartbeat (CAF's middleman.heartbeat-interval).
  std::chrono::milliseconds heartbeat{250};
  /// A connection on which nothing arrived for this long is closed (CAF's
  /// middleman.connection-timeout): how a silent partition is noticed, and why messages
  /// queued during one are dropped rather than delivered late after it heals.
  std::chrono::milliseconds connection_timeout{2000};
  /// The shared secret (never logged, never sent: peers prove they know it).
  std::string secret;
  /// TLS between nodes, when configured (else plain TCP; the secret handshake either way).
  std::optional<tls_files> tls;

  /// This node's entry in members.
  const member& self() const;
};

/// Parses the JSON text of a cluster file for node `node_id` and loads the secret it
/// names (a file, or an environment variable). Errors: bad_request (malformed JSON, a
/// missing or duplicate member, no member that does not join, an unknown node id, a bad shard override, no secret or a
/// secret shorter than 16 bytes, a tls object without all three files, a timing that is
/// not a positive number of ms or a connection timeout below two heartbeats), io_error (the
/// secret file or a TLS file cannot be read).
result<cluster_config> parse_cluster_config(const std::string& json_text, const std::string& node_id);

/// As parse_cluster_config, from a file. Errors: also io_error (unreadable file).
result<cluster_config> load_cluster_config(const std::filesystem::path& file, const std::string& node_id);

} // namespace annal::cluster
