// A runtime's membership in a cluster (issue 12: static shard ownership, command
// forwarding, remote reads, TLS as an option). The node publishes its endpoint on its
// member address, keeps a link to every peer, and installs a forwarder in the runtime, so
// runtime::send<A>() of an aggregate that another node owns goes to that node's router and
// returns its outcome; read_stream() reads a stream from its owner's journal, read_shard()
// a shard (cluster_projection builds read models over every shard on it).
//
//   annal::runtime_config rc;  annal::cluster::cluster_node::prepare(rc, cfg);
//   auto rt = annal::runtime::open(rc);  ... register aggregates ...
//   auto node = annal::cluster::cluster_node::join(**rt, cfg);   // before start()
//   (*rt)->start();  ...  (*node)->leave();  (*rt)->stop();
//
// Shards move between members (move_shard); rebalance() evens them out, e.g. after a node
// joined the running cluster (a member the cluster file marks "joins", which the others
// add when it proves the secret), and drain() empties a node before it is removed (see
// docs/architecture.md, Cluster). Thread safety: status(), is_remote(), read_stream(),
// read_shard(), peers() from any thread; join and leave from one thread.
#pragma once

#include <caf/actor.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string_view>
#include <vector>

#include "annal/cluster/cluster_config.hpp"
#include "annal/cluster/cluster_status.hpp"
#include "annal/cluster/rebalance.hpp"
#include "annal/cluster/remote_shard.hpp"
#include "annal/cluster/remote_stream.hpp"
#include "annal/cluster/shard_move.hpp"
#include "annal/result.hpp"
#include "annal/runtime_config.hpp"

namespace annal {
class runtime;
}

namespace annal::cluster {

namespace detail {
struct node_context;
class shard_forwarder;
}

class cluster_node {
public:
  /// Makes a runtime opened with `rc` able to join a cluster (loads CAF's network layer,
  /// with the default heartbeat and connection timeout of cluster_config).
  static void prepare(runtime_config& rc);

  /// As prepare(rc) with `config`'s heartbeat and connection timeout, and when `config`
  /// asks for TLS also loads libcaf_openssl's manager with its certificate, key and CA
  /// file (join() then listens and connects with TLS).
  static void prepare(runtime_config& rc, const cluster_config& config);

  /// Joins: publishes this node's endpoint on config.self() (host, port), connects to the
  /// peers, installs the forwarder in `rt` (which must outlive the node and must not be
  /// started yet). Errors: bad_request (runtime started, not prepared, or not prepared
  /// for the TLS the config asks for), unavailable (the port cannot be bound).
  static result<std::unique_ptr<cluster_node>> join(runtime& rt, cluster_config config);

  /// Leaves (as leave()).
  ~cluster_node();
  cluster_node(const cluster_node&) = delete;
  cluster_node& operator=(const cluster_node&) = delete;

  /// Members, the health of the links to them, the shard map.
  cluster_status status() const;

  /// True when another node owns the shard of `stream_id` (its journal holds the stream).
  bool is_remote(std::string_view stream_id) const;

  /// Reads `stream_id` from its owner's journal: the head record and up to 1000 events
  /// after version `after` (remote_stream::more says whether more follow). A local stream
  /// is read from this node's store on the calling thread; a remote one through the
  /// owner's link, `done` then runs on an actor thread. Errors: unavailable (owner
  /// unreachable, no answer within forward_timeout, the owner's shard map differs, the
  /// node left), corrupt (events truncated below `after`), io_error.
  void read_stream(std::string stream_id, stream_version after, read_stream_done done) const;

  /// Reads up to 1000 events of `shard` with shard position > `after` from its owner's
  /// journal, scanning the owner's log after `hint` — a previous answer's next_hint, used
  /// only while the shard's epoch is still that answer's `hint_epoch` (a moved shard is
  /// read from the start of its new owner's log). Local shards are read on the calling
  /// thread. Errors as read_stream, and bad_request (no such shard, or the journals' shard
  /// count is not the cluster's: shard positions would not match).
  void read_shard(uint16_t shard, uint64_t after, uint64_t hint, uint64_t hint_epoch,
                  read_shard_done done) const;

  /// Long poll: asks node `peer` for the heads of the shards it owns (by shard, 0 for the
  /// others). It answers at once when one is past `known` (by shard), else at its first
  /// commit that passes one, or after `wait` (at most 10 s) with what it has. `done` runs
  /// once, on an actor thread. Errors: unavailable (peer unknown, unreachable, or no answer
  /// within wait + forward_timeout), corrupt.
  void watch_shards(const std::string& peer, std::vector<uint64_t> known,
                    std::chrono::milliseconds wait, watch_shards_done done) const;

  /// Calls `fn` after each event this node's journal commits, on an actor thread: keep it
  /// short (set a flag, notify). Needs join() before the runtime started (it registers the
  /// watcher then). Returns the id remove_commit_listener() takes.
  uint64_t add_commit_listener(std::function<void()> fn) const;
  /// Stops calls to the listener `id` (none after this returns).
  void remove_commit_listener(uint64_t id) const;

  /// True when this node owns `shard` in its map.
  bool owns_shard(uint16_t shard) const;

  /// Moves `shard`, which this node owns, to member `to` with its history and its shard
  /// positions: `to` copies it while this node serves it, then this node fences it (its
  /// commands fail with unavailable: the pause), `to` copies the rest, this node records
  /// the hand-over (epoch + 1) and `to` serves it; every peer then hears the new map.
  /// `done` runs once, on an actor thread. Errors: bad_request (no such shard or member),
  /// conflict (another node owns the shard, it is moving already), unavailable (`to`
  /// unreachable or slower than move_timeout: the shard stays here), and journal errors.
  void move_shard(uint16_t shard, const std::string& to, move_shard_done done);

  /// Evens out the shards among the members, one move at a time (each asked of the
  /// shard's owner: from the member owning most to the one owning fewest, until no two
  /// differ by more than one); first waits, up to move_timeout, for every member's link.
  /// How a node that joined takes its share. `done` runs once, on an actor thread, with
  /// the moves made. Errors: conflict (a rebalance or drain runs on this node already),
  /// unavailable (a member unreachable, five moves in a row failed, the node left).
  void rebalance(rebalance_done done);

  /// Moves every shard this node owns to the other members (to the one owning fewest
  /// each time), as rebalance(): before the node is stopped and removed from the file.
  void drain(rebalance_done done);

  /// The other members' ids: the cluster file's and those that joined since.
  std::vector<std::string> peers() const;

  /// Closes the endpoint and the links: forwarded commands fail with unavailable from now
  /// on. Call before runtime::stop(). Idempotent.
  void leave();

  /// The port the endpoint listens on.
  uint16_t port() const noexcept { return port_; }

private:
  cluster_node() = default;
  std::shared_ptr<detail::node_context> ctx_;
  caf::actor endpoint_;
  std::shared_ptr<detail::shard_forwarder> forwarder_;
  uint16_t port_ = 0;
};

} // namespace annal::cluster
