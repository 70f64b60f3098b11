// Internal to the annal CLI: one HTTP request to a running node (the cluster commands read
// and drive a shop node's /cluster routes). Blocking, bounded by a deadline.
#pragma once

#include <chrono>
#include <string>

#include "exit_code.hpp"

namespace annal::cli {

/// A node's address, from --url http://HOST:PORT (IPv6 in brackets).
struct node_address {
  std::string host;
  std::string port;
};

/// Parses `url`; a usage failure naming the expected form otherwise.
outcome<node_address> parse_node_url(const std::string& url);

/// Sends `method` `target` (with `body` as JSON when not empty) and returns the body of a
/// 200 answer. Failures: the node unreachable or slower than `deadline`, 404 (the node
/// serves no such route: `missing_route` says why), any other status with its body.
outcome<std::string> node_request(const node_address& node, const std::string& method, const std::string& target,
                                  const std::string& body, const std::string& token,
                                  std::chrono::seconds deadline, const std::string& missing_route);

} // namespace annal::cli
