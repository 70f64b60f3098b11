// Internal: this node's link to one peer. It connects to the peer's endpoint through CAF's
// middleman, proves the secret and checks the peer's proof, then forwards the commands of
// the peer's shards. While it is not up, commands fail at once with `unavailable`; a lost
// or refused connection is retried with a bounded backoff (100 ms doubling to 2 s), so a
// returning peer is used again without restarting anyone. Under TLS only the node with the
// smaller id dials (a node joining the running cluster dials; the others wait for it); the
// other waits until the dialer, once admitted, introduces its endpoint, and proves itself
// over that same connection (see dials_to in the source). After each handshake the link
// tells the peer where this node listens: how the peer learns of a node that joined.
#pragma once

#include <caf/fwd.hpp>

#include <memory>

#include "node_context.hpp"

namespace annal::cluster::detail {

/// Spawns the link to `peer` (a member other than this node).
caf::actor spawn_peer_link(caf::actor_system& sys, std::shared_ptr<node_context> ctx, member peer);

} // namespace annal::cluster::detail
