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
//   read_shard (read_shard_atom, shard, epoch, after shard position, hint, max)
//                                                          -> wire_shard_reply
//   watch   (watch_atom, known heads (encode_heads), wait ms)
//                                                          -> heads of the shards the
//            answering node owns (encode_heads; 0 for the others), at once when one is
//            past `known`, else at the first commit that passes one, or after `wait`
//   map     (map_atom, the sender's shard map (encode_map)) -> the receiver's map; each side
//            adopts the shards the other has at a higher epoch (merge_peer_map)
//   pull    (pull_atom, shard, epoch)                      -> the shard's head once the
//            receiver copied the shard from the sender (read_shard at `epoch`, imported
//            through its journal writer; resumes from what it has)
//   records (records_atom, shard, epoch, after stream id)  -> wire_records_reply: a page of
//            the shard's stream records that its events cannot carry (deleted, truncated)
//   procstate (procstate_atom, shard, epoch, rows (cereal process_shard_state))
//                                                          -> rows merged, once the
//            receiver, the shard's owner, merged the process-manager state and timers
//            that the sender held when it handed the shard over at `epoch`
//            (process_handoff.hpp)
//   take    (take_atom, shard, new epoch, head)            -> ok once the receiver, holding
//            the shard through `head`, recorded that it owns the shard from the new epoch
//   introduce (introduce_atom, the sender's endpoint)       (TLS: the dialer, once admitted,
//            gives the peer its endpoint so the peer's link proves itself over the same
//            connection instead of dialing back)
//   member  (member_atom, host, port, joins)               (after every handshake: where the
//            sender listens; a receiver that does not know it adds it as a member and
//            links to it: how a node joins a running cluster)
//   give    (give_atom, shard, to)                         -> wire_move_reply once the
//            receiver, the shard's owner, moved it to member `to` (a rebalance's step)
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "annal/cluster/remote_shard.hpp"
#include "annal/cluster/remote_stream.hpp"
#include "annal/cluster/shard_map.hpp"
#include "annal/cluster/shard_move.hpp"
#include "annal/command_forwarder.hpp"
#include "annal/detail/once_callback.hpp"
#include "annal/expected_version.hpp"
#include "annal/stream_info.hpp"

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
using read_shard_atom = caf::atom_constant<caf::atom("clrdshard")>;
using watch_atom = caf::atom_constant<caf::atom("clwatch")>;
using watch_expired_atom = caf::atom_constant<caf::atom("clwatchx")>;
using commits_atom = caf::atom_constant<caf::atom("clcommits")>;
using map_atom = caf::atom_constant<caf::atom("clmap")>;
using pull_atom = caf::atom_constant<caf::atom("clpull")>;
using pulled_atom = caf::atom_constant<caf::atom("clpulled")>;
using take_atom = caf::atom_constant<caf::atom("cltake")>;
using records_atom = caf::atom_constant<caf::atom("clrecords")>;
using procstate_atom = caf::atom_constant<caf::atom("clprocst")>;
using member_atom = caf::atom_constant<caf::atom("clmember")>;
using give_atom = caf::atom_constant<caf::atom("clgive")>;
using gave_atom = caf::atom_constant<caf::atom("clgave")>;

/// A command's outcome on the wire: errc as a number (0: success), the error's message,
/// then the reply's version, position, duplicate flag, shard and shard position.
using wire_reply = std::tuple<uint8_t, std::string, uint64_t, uint64_t, bool, uint16_t, uint64_t>;

/// The error an owner answered with code `code` (io_error for a code this build does not know).
error code_error(uint8_t code, const std::string& message);

wire_reply to_wire(const command_result& r);
command_result from_wire(const wire_reply& w);

/// One event on the wire: version, position (the owner's), type, schema version,
/// timestamp, payload, shard, shard position, corrupt flag, and its metadata (command id,
/// correlation id, causation id: the audit trail, and what a moved shard must keep).
using wire_event = std::tuple<uint64_t, uint64_t, std::string, uint32_t, int64_t, std::string,
                              uint16_t, uint64_t, bool, std::string, std::string, std::string>;

/// The event as it travels.
wire_event to_wire_event(const event_view& e);
/// The event back, as a recorded event of `stream_id`.
recorded_event from_wire_event(std::string stream_id, wire_event&& w);

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

/// A shard read's outcome on the wire: errc as a number (0: success), the error's message,
/// the shard's head, the owner's next hint, at_end, and the events (with their stream ids).
using wire_shard_reply = std::tuple<uint8_t, std::string, uint64_t, uint64_t, bool, std::string>;

/// The owner's side of a shard read: up to min(max, max_read_events) events of `shard`
/// after shard position `after`, scanning this node's log after `hint`. Refused
/// (bad_request) when the store's shard count is not the cluster's.
wire_shard_reply read_shard_local(event_store& store, const shard_map& map, uint16_t shard,
                                  uint64_t after, uint64_t hint, uint64_t max);
/// The reader's side. Errors: those the owner answered, corrupt (undecodable bytes).
result<shard_events> shard_from_wire(const wire_shard_reply& w);

/// A page of a shard's stream records on the wire: errc as a number (0: success), the
/// error's message, the records (cereal), the last stream id scanned (the next page starts
/// after it), and whether the scan reached the last stream.
using wire_records_reply = std::tuple<uint8_t, std::string, std::string, std::string, bool>;

/// The records the owner's side sends.
struct records_page {
  std::vector<stream_info> records;
  std::string next_after;
  bool at_end = false;
};

/// The old owner's side: the records of `shard`'s streams after stream id `after` that are
/// deleted or truncated, at most a bounded number per answer (from the store's index of
/// such streams: the cost follows their number, not the store's).
wire_records_reply read_records_local(event_store& store, uint16_t shard_count, uint16_t shard,
                                      const std::string& after);
/// The new owner's side. Errors: those the owner answered, corrupt (undecodable bytes).
result<records_page> records_from_wire(const wire_records_reply& w);

/// Shard heads by shard as 8 big-endian bytes each (a string: a builtin type on the wire).
std::string encode_heads(const std::vector<uint64_t>& heads);
/// The heads back; none when `bytes` is not a whole number of heads.
std::optional<std::vector<uint64_t>> decode_heads(const std::string& bytes);
/// The heads of the shards `node_id` owns in `map`, from this node's store (0 for shards
/// it does not own). Errors: those of event_store::read_shard.
result<std::vector<uint64_t>> owned_heads(event_store& store, const shard_map& map,
                                          const std::string& node_id);

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

/// Delivers a shard read's outcome exactly once (unavailable when dropped unanswered).
class shard_read_callback : public annal::detail::once_delivery<result<shard_events>> {
public:
  explicit shard_read_callback(read_shard_done fn)
    : once_delivery(std::move(fn), "the cluster link dropped the shard read") {}
};

/// A shard read on its way from cluster_node::read_shard to the owner's link.
struct outbound_shard_read {
  uint16_t shard = 0;
  uint64_t epoch = 0;
  uint64_t after = 0;
  uint64_t hint = 0;
  std::shared_ptr<shard_read_callback> done;
};

/// Delivers a watch's outcome exactly once (unavailable when dropped unanswered).
class watch_callback : public annal::detail::once_delivery<result<std::vector<uint64_t>>> {
public:
  explicit watch_callback(watch_shards_done fn)
    : once_delivery(std::move(fn), "the cluster link dropped the watch") {}
};

/// A watch on its way from cluster_node::watch_shards to the peer's link.
struct outbound_watch {
  std::vector<uint64_t> known;
  std::chrono::milliseconds wait{0};
  std::shared_ptr<watch_callback> done;
};

/// Delivers the outcome of a move step sent to a peer exactly once (unavailable when
/// dropped unanswered): the shard's head for a pull, 0 for a take.
class step_callback : public annal::detail::once_delivery<result<uint64_t>> {
public:
  explicit step_callback(std::function<void(result<uint64_t>)> fn)
    : once_delivery(std::move(fn), "the cluster link dropped the shard move's request") {}
};

/// A step of a shard move, on its way from the mover to the peer's link: a pull (take
/// false) or a take.
struct outbound_move_step {
  bool take = false;
  uint16_t shard = 0;
  uint64_t epoch = 0;
  uint64_t head = 0;
  std::chrono::milliseconds bound{0};
  std::shared_ptr<step_callback> done;
};

/// Delivers a records page exactly once (unavailable when dropped unanswered).
class records_callback : public annal::detail::once_delivery<result<records_page>> {
public:
  explicit records_callback(std::function<void(result<records_page>)> fn)
    : once_delivery(std::move(fn), "the cluster link dropped the records read") {}
};

/// A records read of a moving shard, on its way from the new owner's pull to the old
/// owner's link.
struct outbound_records_read {
  uint16_t shard = 0;
  uint64_t epoch = 0;
  std::string after;
  std::shared_ptr<records_callback> done;
};

/// A shard's process-manager state and timers, on their way from an earlier owner to the
/// owner's link (step_callback gets the number of rows merged).
struct outbound_process_state {
  uint16_t shard = 0;
  uint64_t epoch = 0; // of the sender's hand-over
  std::string rows;
  std::chrono::milliseconds bound{0};
  std::shared_ptr<step_callback> done;
};

/// Tells the link to exchange shard maps with its peer now (after a move).
struct outbound_map_sync {};

/// A move's outcome on the wire: errc as a number (0: success), the error's message,
/// then the report's from, to, epoch, head, pause µs, total µs, process rows and whether
/// the process state moved (shard: the request's).
using wire_move_reply = std::tuple<uint8_t, std::string, std::string, std::string, uint64_t, uint64_t,
                                   int64_t, int64_t, uint64_t, bool>;

wire_move_reply to_wire(const result<move_report>& r);
result<move_report> move_from_wire(uint16_t shard, const wire_move_reply& w);

/// Delivers the outcome of a move asked of a peer exactly once (unavailable when dropped).
class give_callback : public annal::detail::once_delivery<result<move_report>> {
public:
  explicit give_callback(move_shard_done fn)
    : once_delivery(std::move(fn), "the cluster link dropped the move request") {}
};

/// A request that the link's peer, the owner of `shard`, move it to member `to`.
struct outbound_give {
  uint16_t shard = 0;
  std::string to;
  std::chrono::milliseconds bound{0};
  std::shared_ptr<give_callback> done;
};

} // namespace annal::cluster::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(annal::cluster::detail::outbound_move_step)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(annal::cluster::detail::outbound_map_sync)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(annal::cluster::detail::outbound_process_state)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(annal::cluster::detail::outbound_give)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(annal::cluster::detail::outbound_records_read)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(annal::cluster::detail::outbound_watch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(annal::cluster::detail::outbound_shard_read)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(annal::cluster::detail::outbound_command)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(annal::cluster::detail::outbound_read)
