// A read model that covers every shard of a cluster, on any node: its checkpoint is a
// shard position per shard, stored in the same read-model transaction as its rows, and it
// catches up each shard from the shard's owner (cluster_node::read_shard). Events of a
// shard come in shard-position order from the owner's complete log, so applying only those
// past the shard's checkpoint applies each event once, also across restarts (and, since
// shard positions survive a move, across moves once they exist).
//
// Live delivery is pushed: every owner answers a long poll when a shard it owns passes
// what the projection applied, and only those shards are read (see the options).
// Thread safety: positions(), applied(), catch_up_now(), wait_for() and stop() from
// any thread.
//
//   auto p = cluster_projection::start(node, rt.read_models(), {"totals"}, handler);
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "annal/durable_projection.hpp"
#include "annal/read_model_store.hpp"
#include "annal/recorded_event.hpp"
#include "annal/result.hpp"

namespace annal::cluster {

class cluster_node;

struct cluster_projection_options {
  /// Names the projection; its checkpoints live in the read-model table "<name>.shards".
  std::string name;
  /// Live delivery is pushed: each peer answers a long poll (cluster_node::watch_shards)
  /// when a shard it owns passes the projection, local commits are heard directly, and a
  /// round reads only the shards that moved. `poll` is the least time between two rounds
  /// (commits meanwhile are read together); `idle_poll` bounds a watch, and a round of
  /// every shard follows a wait that heard nothing for that long (or a peer that failed).
  std::chrono::milliseconds poll{10};
  std::chrono::milliseconds idle_poll{1000};
  /// Read-model tables the handler writes: emptied when the projection starts without a
  /// checkpoint (e.g. the node kept read models of its own journal before it joined a
  /// cluster), so that every row comes from the shards.
  std::vector<std::string> tables;
};

/// Applies one event to the read model inside the transaction that also advances the
/// event's shard checkpoint; an error (or a throw) aborts the transaction, retried next
/// round: an event it always fails on holds its shard back (no parking yet, unlike local
/// projections).
using shard_event_handler = std::function<status(read_model_txn&, const recorded_event&)>;

/// A handler that runs the read models of `specs` over every shard: each event goes to the
/// `apply` of every spec whose filter matches it, in the order given, as the local runtime
/// would deliver it (node positions are the owner's; the metadata is the event's own).
shard_event_handler apply_each(std::vector<durable_projection> specs);

/// The tables of every spec (for cluster_projection_options::tables).
std::vector<std::string> tables_of(const std::vector<durable_projection>& specs);

class cluster_projection {
public:
  /// Starts catching up every shard of `node`'s map into `store` on a thread of its own.
  /// `node` and `store` must outlive the projection. Errors: bad_request (no name or
  /// handler), io_error (the checkpoint table cannot be opened or read).
  static result<std::unique_ptr<cluster_projection>> start(const cluster_node& node,
                                                           read_model_store& store,
                                                           cluster_projection_options options,
                                                           shard_event_handler handler);

  /// Stops (as stop()).
  ~cluster_projection();
  cluster_projection(const cluster_projection&) = delete;
  cluster_projection& operator=(const cluster_projection&) = delete;

  /// The shard position applied last, by shard.
  std::vector<uint64_t> positions() const;
  /// The shard position applied last in `shard` (0 for a shard that does not exist).
  uint64_t position(uint16_t shard) const;
  /// The number of shards.
  std::size_t shard_count() const;
  /// Events applied since start.
  uint64_t applied() const;
  /// Reads `shard` (none: every shard) at the next round and starts it at once: a caller
  /// about to wait for an event it knows was committed need not wait for a pause.
  void catch_up_now(std::optional<uint16_t> shard = std::nullopt) const;
  /// Read-your-writes: waits until the projection applied `shard` through `shard_position`
  /// (a command_reply's token), at most `timeout`. Errors: timeout, bad_request (no such
  /// shard), unavailable (stopped). A committed transaction precedes the wake-up, so a read
  /// of the read model after success sees the event.
  status wait_for(uint16_t shard, uint64_t shard_position, std::chrono::milliseconds timeout) const;
  /// Stops the thread after the round in progress (a bounded wait). Idempotent.
  void stop();

  struct state;

private:
  explicit cluster_projection(std::shared_ptr<state> s) : state_(std::move(s)) {}
  std::shared_ptr<state> state_;
};

} // namespace annal::cluster
