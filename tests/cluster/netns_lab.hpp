// Network namespaces made by a test, for partitions the kernel enforces: one namespace per
// node and a hub namespace holding a bridge, the cluster network, that every node's
// cluster interface is a port of; each node also has its own point-to-point link to the
// test's namespace for its HTTP front, so a client reaches both sides of a partition.
// Cutting a node's bridge port (`ip link set down`) partitions it from the other nodes
// silently: no reset, no FIN, packets just stop. Needs root; everything made is removed by
// the destructor (deleting a namespace deletes its interfaces and their peers).
#pragma once

#include <unistd.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "child_run.hpp"

namespace annal::test {

class netns_lab {
public:
  /// Creates the hub and one namespace per node in `nodes`. Throws std::runtime_error
  /// (after removing what it made) when an `ip` command fails.
  explicit netns_lab(std::vector<std::string> nodes) : nodes_(std::move(nodes)) {
    // Per-process names and subnets: two test processes never share them.
    tag_ = "an" + std::to_string(::getpid() % 100000);
    net_ = std::to_string(20 + ::getpid() % 200);
    try {
      build();
    } catch (...) {
      remove();
      throw;
    }
  }
  ~netns_lab() { remove(); }
  netns_lab(const netns_lab&) = delete;
  netns_lab& operator=(const netns_lab&) = delete;

  /// The namespace of node `i`.
  std::string ns(size_t i) const { return tag_ + nodes_.at(i); }
  /// Node `i`'s address on the cluster network.
  std::string cluster_host(size_t i) const { return "10.213." + net_ + "." + std::to_string(i + 1); }
  /// Node `i`'s address on its link to the test (its HTTP front listens there).
  std::string client_host(size_t i) const { return "10.214." + net_ + "." + std::to_string(4 * i + 2); }
  /// The command prefix that runs a program inside node `i`'s namespace.
  std::vector<std::string> exec_prefix(size_t i) const { return {IP_PROGRAM, "netns", "exec", ns(i)}; }

  /// Cuts node `i`'s port of the cluster network (a silent partition) or restores it.
  void cut(size_t i) { ip({"-n", hub(), "link", "set", port(i), "down"}); }
  void heal(size_t i) { ip({"-n", hub(), "link", "set", port(i), "up"}); }

private:
  std::string hub() const { return tag_ + "hub"; }
  std::string port(size_t i) const { return "p" + nodes_.at(i); }

  void build() {
    ip({"netns", "add", hub()});
    made_.push_back(hub());
    ip({"-n", hub(), "link", "add", "br0", "type", "bridge"});
    ip({"-n", hub(), "link", "set", "br0", "up"});
    for (size_t i = 0; i < nodes_.size(); ++i)
      add_node(i);
  }

  void add_node(size_t i) {
    auto n = ns(i);
    ip({"netns", "add", n});
    made_.push_back(n);
    ip({"-n", n, "link", "set", "lo", "up"});
    ip({"-n", hub(), "link", "add", port(i), "type", "veth", "peer", "name", "cl0", "netns", n});
    ip({"-n", hub(), "link", "set", port(i), "master", "br0"});
    ip({"-n", hub(), "link", "set", port(i), "up"});
    ip({"-n", n, "addr", "add", cluster_host(i) + "/24", "dev", "cl0"});
    ip({"-n", n, "link", "set", "cl0", "up"});
    // The test's end lives in the test's namespace and goes when the node's namespace does.
    auto mine = tag_ + nodes_[i];
    ip({"link", "add", mine, "type", "veth", "peer", "name", "ht0", "netns", n});
    ip({"addr", "add", "10.214." + net_ + "." + std::to_string(4 * i + 1) + "/30", "dev", mine});
    ip({"link", "set", mine, "up"});
    ip({"-n", n, "addr", "add", client_host(i) + "/30", "dev", "ht0"});
    ip({"-n", n, "link", "set", "ht0", "up"});
  }

  void remove() noexcept {
    for (auto it = made_.rbegin(); it != made_.rend(); ++it)
      run_child(IP_PROGRAM, {"netns", "del", *it}, std::chrono::seconds(10));
    made_.clear();
  }

  static void ip(const std::vector<std::string>& args) {
    auto r = run_child(IP_PROGRAM, args, std::chrono::seconds(10));
    if (r.exit_code != 0) {
      std::string line = "ip";
      for (const auto& a : args)
        line += " " + a;
      throw std::runtime_error(line + ": " + r.output);
    }
  }

  std::vector<std::string> nodes_;
  std::string tag_;
  std::string net_;
  std::vector<std::string> made_;
};

} // namespace annal::test
