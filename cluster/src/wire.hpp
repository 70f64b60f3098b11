// Internal: the messages between cluster nodes and between a node's own cluster actors.
// Everything that crosses the network is built from CAF's builtin types (strings, integers,
// atoms), so nothing needs registering and both ends agree by construction.
//
//   hello   (hello_atom, peer id, client nonce)            -> (server nonce, server proof)
//   prove   (prove_atom, client proof)                     -> (ok_atom) | error
//   forward (forward_atom, category, aggregate id, stream id, shard, epoch, command bytes,
//            [command id, correlation id, causation id], expected kind, expected version,
//            timeout ms)                                   -> wire_reply
//   read    (read_atom, stream id, shard, epoch, after version)
//                                                          -> wire_read_reply
//   introduce (introduce_atom, the sender's endpoint)       (TLS: the dialer, once admitted,
//            gives the peer its endpoint so the peer's link proves itself over the same
//            connection instead of dialing back)
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "annal/cluster/remote_stream.hpp"
#include "annal/command_forwarder.hpp"
#include "annal/detail/once_callback.hpp"
#include "annal/expected_version.hpp"

namespace annal {
class event_store;
}

namespace annal::cluster::detail {

using hello_atom = caf::atom_constant<caf::atom("clhello")>;
using prove_atom = caf::atom_constant<caf::atom("clprove")>;
using forward_atom = caf::atom_constant<caf::atom("clforward")>;
using connect_atom = caf::atom_constant<caf::atom("clconnect")>;
using reply_atom = caf::atom_constant<caf::atom("clreply")>;
using read_atom = caf::atom_constant<caf::atom("clread")>;
using introduce_atom = caf::atom_constant<caf::atom("clintro")>;
using peer_endpoint_atom = caf::atom_constant<caf::atom("clpeerep")>;

/// A command's outcome on the wire: errc as a number (0: success), the error's message,
/// then the reply's version, position, duplicate flag, shard and shard position.
using wire_reply = std::tuple<uint8_t, std::string, uint64_t, uint64_t, bool, uint16_t, uint64_t>;

wire_reply to_wire(const command_result& r);
command_result from_wire(const wire_reply& w);

/// A stream read's outcome on the wire: errc as a number (0: success), the error's
/// message, the stream's head, last position, truncated-through version and deleted flag,
/// whether events past those sent remain, and the events (encode_events).
using wire_read_reply = std::tuple<uint8_t, std::string, uint64_t, uint64_t, uint64_t, bool, bool, std::string>;

/// At most this many events answer one read (the reader asks again for the rest).
constexpr uint64_t max_read_events = 1000;

/// The owner's side of a read: the stream's head and up to max_read_events events after
/// version `after`, from this node's store.
wire_read_reply read_local(event_store& store, const std::string& stream_id, stream_version after);
/// The reader's side. Errors: those the owner answered, corrupt (undecodable bytes).
result<remote_stream> from_wire(const wire_read_reply& w, const std::string& stream_id);
/// An error as a read reply.
wire_read_reply read_error(const error& e);

/// A command on its way from runtime::send (any thread) to the link of its owner.
struct outbound_command {
  forwarded_command cmd;
  uint16_t shard = 0;
  uint64_t epoch = 0;
  annal::detail::reply_callback done;
};

/// Delivers a read's outcome exactly once: a read dropped unanswered (its link is gone)
/// answers unavailable, so no caller waits forever.
class read_callback : public annal::detail::once_delivery<result<remote_stream>> {
public:
  explicit read_callback(read_stream_done fn)
    : once_delivery(std::move(fn), "the cluster link dropped the read") {}
};

/// A stream read on its way from cluster_node::read_stream (any thread) to the owner's link.
struct outbound_read {
  std::string stream_id;
  stream_version after = 0;
  uint16_t shard = 0;
  uint64_t epoch = 0;
  std::shared_ptr<read_callback> done;
};

} // namespace annal::cluster::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(annal::cluster::detail::outbound_command)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(annal::cluster::detail::outbound_read)
