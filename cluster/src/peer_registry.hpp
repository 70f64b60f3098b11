// Internal: the members this node knows and its link to each peer. Starts as the cluster
// file's members; a node joining the running cluster is added when, having proved the
// secret, it says where it listens. Holds the links strongly: leave() takes them out
// (close) so that the link actors, which hold the node's context, can end.
// Thread safety: every function locks.
#pragma once

#include <caf/actor.hpp>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "annal/cluster/cluster_config.hpp"

namespace annal::cluster::detail {

class peer_registry {
public:
  /// Adds `m` (no link: this node itself). False when a member of that id exists or the
  /// registry is closed.
  bool add(member m);
  /// Adds peer `m` and its link. False (nothing changes) when a member of that id exists
  /// or the registry is closed: the caller then stops the link it made.
  bool add(member m, caf::actor link);

  std::vector<member> members() const;
  bool known(const std::string& id) const;
  /// The link to peer `id`, or a null handle.
  caf::actor link(const std::string& id) const;
  /// Every peer's link.
  std::vector<caf::actor> links() const;

  /// Takes every link out and refuses later adds (the node leaves).
  std::vector<caf::actor> close();

private:
  mutable std::mutex mx_;
  std::vector<member> members_;
  std::map<std::string, caf::actor> links_;
  bool closed_ = false;
};

} // namespace annal::cluster::detail
