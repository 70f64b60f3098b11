// Internal: the messages between cluster nodes and between a node's own cluster actors.
// Everything that crosses the network is built from CAF's builtin types (strings, integers,
// atoms), so nothing needs registering and both ends agree by construction.
//
//   hello   (hello_atom, peer id, client nonce)            -> (server nonce, server proof)
//   prove   (prove_atom, client proof)                     -> (ok_atom) | error
//   forward (forward_atom, category, aggregate id, stream id, shard, epoch, command bytes,
//            [command id, correlation id, causation id], expected kind, expected version,
//            timeout ms)                                   -> wire_reply
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "annal/command_forwarder.hpp"
#include "annal/detail/once_callback.hpp"

namespace annal::cluster::detail {

using hello_atom = caf::atom_constant<caf::atom("clhello")>;
using prove_atom = caf::atom_constant<caf::atom("clprove")>;
using forward_atom = caf::atom_constant<caf::atom("clforward")>;
using connect_atom = caf::atom_constant<caf::atom("clconnect")>;
using reply_atom = caf::atom_constant<caf::atom("clreply")>;

/// A command's outcome on the wire: errc as a number (0: success), the error's message,
/// then the reply's version, position and duplicate flag.
using wire_reply = std::tuple<uint8_t, std::string, uint64_t, uint64_t, bool>;

wire_reply to_wire(const command_result& r);
command_result from_wire(const wire_reply& w);

/// A command on its way from runtime::send (any thread) to the link of its owner.
struct outbound_command {
  forwarded_command cmd;
  uint16_t shard = 0;
  uint64_t epoch = 0;
  annal::detail::reply_callback done;
};

} // namespace annal::cluster::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(annal::cluster::detail::outbound_command)
