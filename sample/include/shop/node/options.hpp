// The command line of shop-node. The program's own options are parsed with CLI11; every
// option it does not know (--scheduler.max-threads=2, --annal.durability=no_sync, ...)
// goes to CAF through runtime_config::caf_args.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace shop::node {

/// Where the operations page's built files are by default: web/dist of the source tree
/// this node was built from.
std::filesystem::path default_web_root();

struct node_options {
  std::filesystem::path data_dir = "./shop-data";
  std::string host = "127.0.0.1";
  /// 0: any free port (the URL printed at start says which).
  uint16_t port = 8080;
  std::chrono::milliseconds payment_timeout{std::chrono::minutes(15)};
  /// When not empty, every request needs "Authorization: Bearer <token>".
  std::string token;
  /// CAF config file (empty: none).
  std::string caf_config_file;
  /// Options for CAF and the runtime's "annal" group.
  std::vector<std::string> caf_args;
  /// Threads running the HTTP server's event loop (connections cost no thread).
  unsigned http_threads = 4;
  /// HTTP connections served at once; more are answered 503 and closed.
  std::size_t max_connections = 10000;
  /// How long a keep-alive connection may wait for its next request.
  std::chrono::milliseconds http_idle_timeout{std::chrono::seconds(60)};
  /// From a request's first byte to its last header; the body then has as long again.
  std::chrono::milliseconds http_header_timeout{std::chrono::seconds(10)};
  unsigned fulfilment_partitions = 1;
  std::size_t max_live_orders = 100000; // order instances live at once (LRU passivation)
  /// The operations page's built files (index.html, ...); absent: the API only.
  std::filesystem::path web_root = default_web_root();
  /// This node's id in the cluster file (with cluster_config; both empty: a single node).
  std::string node_id;
  /// The cluster file (annal::cluster::cluster_config): members, shards, the secret's source.
  std::filesystem::path cluster_config;
};

/// Parses the command line. Returns the options, or the exit code when the program should
/// stop at once (0 after --help, 2 after a usage error, both already printed).
std::variant<node_options, int> parse_options(int argc, const char* const* argv);

/// Parses a duration: a number with a unit of ms, s, m or h ("500ms", "900s", "15m");
/// a bare number counts as seconds. None when malformed, zero or above 30 days.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

/// Parses "HOST:PORT" ("[::1]:8080" for IPv6; PORT 0..65535). None when malformed.
std::optional<std::pair<std::string, uint16_t>> parse_endpoint(std::string_view text);

} // namespace shop::node
