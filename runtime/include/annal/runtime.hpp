// The embedding API of Annal: one object that owns (or borrows) a CAF actor system, opens
// the stores in a data folder, hosts aggregate types, and stops gracefully.
//
//   auto rt = annal::runtime::open(cfg);          // result<std::unique_ptr<runtime>>
//   (*rt)->register_aggregate<account>();         // needs annal/aggregate_host.hpp
//   (*rt)->start();
//   auto r = (*rt)->send<account>("42", deposit{100}).get();   // command_result
//
// This header includes no CAF header: the typed send<A>() hands an erased command to the
// non-template core in runtime.cpp. Hosting an aggregate type (register_aggregate<A>)
// instantiates its actors, so it is defined in annal/aggregate_host.hpp, which only the
// translation units that register aggregates include.
//
// Thread safety: register_*() and start() are for one thread before use; send(), load()
// and the accessors are safe from any thread once started; stop() once, from one thread.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <typeindex>
#include <vector>

#include "annal/aggregate_options.hpp"
#include "annal/aggregate_traits.hpp"
#include "annal/aggregate_view.hpp"
#include "annal/command_forwarder.hpp"
#include "annal/command_options.hpp"
#include "annal/detail/aggregate_loader.hpp"
#include "annal/detail/erased_command.hpp"
#include "annal/durable_projection.hpp"
#include "annal/event_registry.hpp"
#include "annal/event_store.hpp"
#include "annal/memory_projection.hpp"
#include "annal/process_manager.hpp"
#include "annal/process_shard_state.hpp"
#include "annal/projection_monitor.hpp"
#include "annal/query_options.hpp"
#include "annal/read_model_store.hpp"
#include "annal/runtime_config.hpp"

namespace caf {
class actor;
class actor_system;
} // namespace caf

namespace annal {

namespace detail {
struct aggregate_context;
class instance_directory;
template <class A>
struct aggregate_host;
} // namespace detail

class runtime {
public:
  // -- opening and closing ------------------------------------------------------------------

  /// Opens the stores under cfg.data_dir and starts an actor system of its own, configured
  /// from cfg.caf_args and cfg.caf_config_file. The runtime locks the folder for its
  /// lifetime. Errors: bad_request (bad CAF options), unavailable (the folder is in use by
  /// another runtime), io_error / corrupt (stores).
  static result<std::unique_ptr<runtime>> open(runtime_config cfg);

  /// As open(cfg), but runs its actors in the host's actor system, which must outlive the
  /// runtime (cfg.caf_args, caf_config_file and caf_setup are not used).
  static result<std::unique_ptr<runtime>> open(caf::actor_system& host, runtime_config cfg);

  /// Stops (if not stopped yet) and closes everything.
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Starts accepting commands and runs the registered projections, process managers and
  /// durable timers. Before start() and after stop(), commands fail with errc::unavailable.
  /// Idempotent while running. Errors: unavailable after stop().
  status start();

  /// Graceful stop: stop accepting, let every instance finish its in-flight commands,
  /// flush the journal, stop the actors, release the folder lock (loads and store reads
  /// keep working; write nothing through store() after stop). Idempotent; returns the
  /// last error met on the way (the stop completes regardless).
  status stop();

  /// True between start() and stop().
  bool running() const noexcept;

  // -- aggregates ---------------------------------------------------------------------------

  /// Hosts aggregate type A (see aggregate_traits.hpp) and registers its event types.
  /// Defined in annal/aggregate_host.hpp: include it where you call this (elsewhere the
  /// call does not compile: "incomplete type detail::aggregate_host<A>"). Errors:
  /// bad_request after start(), already_exists when A is registered already.
  template <class A>
  status register_aggregate(aggregate_options options = {});

  /// Sends `cmd` to instance `id` of A; `done` runs once with the outcome, on an actor
  /// thread (keep it short, do not block). Never throws. With a forwarder installed
  /// (set_forwarder) and A's stream on another node, the command runs there. Errors reach
  /// `done`: unavailable (not running), bad_request (A not registered, invalid id), and
  /// every error of the command itself (rejected, conflict, timeout, ...).
  template <class A>
  void send(std::string id, typename A::command cmd, command_options options,
            std::function<void(command_result)> done);

  /// As above, with the outcome delivered through a future.
  template <class A>
  std::future<command_result> send(std::string id, typename A::command cmd,
                                   command_options options = {});

  /// The router actor of A, for actors that send commands by request/response
  /// (make_command). Defined in annal/aggregate_host.hpp. Errors: bad_request when A is
  /// not registered.
  template <class A>
  result<caf::actor> router() const;

  /// Loads the state of instance `id` of A from the store without touching the live actor:
  /// now, at a version, or as of a time. Runs on the calling thread; A need not be
  /// registered (its event types must be, for upcasting). Errors: bad_request (invalid id),
  /// not_found (no such instance, or nothing within the bound), stream_deleted, corrupt,
  /// io_error.
  template <class A>
  result<aggregate_view<typename A::state>> load(const std::string& id, as_of when = as_of::latest());

  /// Brings `base`, a state of instance `id` of A that the caller keeps (at base.version),
  /// up to the newest event by applying only the events after it: a point read when
  /// nothing changed, where load() reads the newest snapshot and its tail. Runs on the
  /// calling thread. Errors: as load(); corrupt also when the stream ends below
  /// base.version or the events after it were truncated (load() afresh).
  template <class A>
  result<aggregate_view<typename A::state>> catch_up(const std::string& id,
                                                     aggregate_view<typename A::state> base);

  /// Sends a stored command to its aggregate (used by durable timers). Errors reach
  /// `done`: bad_request when the category has no serializable commands registered.
  void dispatch(const stored_command& cmd, std::function<void(command_result)> done);

  /// Installs the cluster's forwarder (before start()): send<A>() hands it every command
  /// whose stream it calls remote, serialized (A::command must be cereal-serializable,
  /// else such a command fails with bad_request). Errors: bad_request after start().
  status set_forwarder(std::shared_ptr<command_forwarder> forwarder);

  /// Imports a chunk of a shard copied from another node (a shard move; see
  /// event_store::import_shard) through the journal writer, so that its events reach the
  /// bus in order with the commits (process managers pass over them: event_view::imported).
  /// `done` runs once, on the writer's thread. Errors: those of import_shard, and
  /// unavailable when the runtime is not running.
  void import_shard(shard_import chunk, std::function<void(result<import_outcome>)> done);

  /// Passivates the live aggregate instances whose streams are in `shard` of a journal of
  /// `shard_count` shards: after a shard moved here or away their state may be stale.
  /// Commands sent after this call run on fresh instances, loaded from the journal.
  void forget_shard(uint16_t shard, uint16_t shard_count);

  /// Once every process manager has handled the log through `through` (and committed what
  /// it wrote), collects the state rows and durable timers that their handling of
  /// `shard`'s events wrote (a shard move: the old owner's side, after the hand-over).
  /// `done` runs once, on an actor thread. Errors: unavailable (a manager faulted or
  /// stopped, or the runtime not running), timeout (`timeout` passed first), io_error,
  /// corrupt.
  void export_process_shard(uint16_t shard, global_position through, std::chrono::milliseconds timeout,
                            std::function<void(result<process_shard_state>)> done);

  /// Marks `shard` as expecting the process-manager rows its old owner handed over at
  /// `epoch` (the new owner's side, before it takes the shard over at `epoch`): until they
  /// arrive, this node's managers hold the shard's events back (recorded with their
  /// checkpoints) and handle them, in log order, once the rows are merged — or, past
  /// runtime_config::process_state_wait, without them; every key they write or erase for
  /// the shard meanwhile is noted, so the merge never undoes it. Rows this node still
  /// holds of the shard from an earlier ownership are dropped (the owner after it merged
  /// them). Errors: io_error, storage_full.
  status expect_process_shard(uint16_t shard, uint64_t epoch);

  /// True while `shard` expects its old owner's rows (expect_process_shard, until
  /// import_process_shard took them), or a process manager still holds back events of
  /// the shard it has not handled yet. A shard must not move on meanwhile: the next owner
  /// would never get the rows, or would miss what handling those events writes.
  bool expects_process_shard(uint16_t shard) const;

  /// Merges the old owner's `rows` of `shard`, handed over at `epoch`, into this node's
  /// process-manager state and timers, in one read-model transaction, if the shard expects
  /// them: rows whose keys this node holds or wrote since are left out; then the shard
  /// expects nothing more. Returns the rows taken (0 when the shard expects nothing, or
  /// expects a later hand-over's: a copy of rows merged before). Wakes the timers and the
  /// managers holding back the shard's events.
  /// Errors: unavailable (the shard expects an earlier hand-over's rows), conflict (rows
  /// for a runtime without process managers), io_error, storage_full.
  result<uint64_t> import_process_shard(uint16_t shard, uint64_t epoch, const process_shard_state& rows);

  /// True when this node's process managers hold state rows or timers of `shard`.
  /// Errors: io_error.
  result<bool> holds_process_shard(uint16_t shard);

  /// The shards below `shard_count` of which this node's process managers hold state rows
  /// or timers, ascending: one read (a look-up per shard and one pass over the pending
  /// timers) instead of holds_process_shard per shard. Errors: io_error.
  result<std::vector<uint16_t>> process_shards_held(uint16_t shard_count);

  /// How many times this runtime marked `shard` as expecting rows since it started
  /// (expect_process_shard, i.e. took the shard over). A hand-off reads it before its
  /// export and passes it to drop_process_shard.
  uint64_t process_shard_takes(uint16_t shard) const;

  /// Removes what this node's process managers hold for `shard` (after it moved away and
  /// its owner took the rows of the hand-over at `epoch`) and records that hand-off as
  /// done, unless this node took the shard over again since `takes` was read
  /// (process_shard_takes): what it holds is then its own. Returns whether it dropped.
  /// Errors: io_error, storage_full.
  result<bool> drop_process_shard(uint16_t shard, uint64_t takes, uint64_t epoch);

  /// For each shard this node handed its process state of to a new owner, the epoch of
  /// the newest such hand-over (drop_process_shard). A node that handed a shard over at a
  /// later epoch still owes that owner a hand-off, even an empty one: the owner waits for
  /// it. Errors: unavailable (no process managers: nothing is owed), io_error.
  result<std::map<uint16_t, uint64_t>> process_hand_offs_done();

  /// Runs a command that another node forwarded here on this node's router, never
  /// forwarding it again. Errors reach `done`: bad_request (category without serializable
  /// commands, undecodable bytes), unavailable (not running), and every command error.
  void run_forwarded(const forwarded_command& cmd, std::function<void(command_result)> done);

  // -- projections and process managers (register before start()) ------------------------

  /// Registers a durable projection. Errors: bad_request (after start, duplicate name),
  /// io_error (opening its tables).
  status add_projection(durable_projection spec);

  /// Registers an in-memory projection; the returned typed handle answers queries
  /// (memory_view::query), no name or type check needed. Errors: bad_request (after
  /// start, empty or duplicate name).
  template <class Model>
  result<memory_view<Model>> add_projection(memory_projection<Model> spec);

  /// Registers a projection whose read model is a sink of your own (projection.hpp: e.g.
  /// a model kept in another database). The sink is called from the projection's actor
  /// only. Errors: bad_request (after start, empty or duplicate name).
  status add_sink(projection_options options, std::shared_ptr<projection_sink> sink);

  /// Registers a process manager (see process_manager.hpp). Errors: bad_request (after
  /// start, empty or duplicate name), io_error (opening its state and timer tables).
  status add_process_manager(process_manager spec);

  /// Waits until projection `name` reflects `min_position`. Errors: not_found (no such
  /// projection), timeout (not reached in time), unavailable (faulted or stopped).
  status await_projection(const std::string& name, global_position min_position,
                          std::chrono::milliseconds timeout);

  /// The monitor of projection `name`, for callers that wait without blocking a thread
  /// (projection_monitor::notify_when). Errors: not_found.
  result<std::shared_ptr<projection_monitor>> projection_monitor_of(const std::string& name) const;

  /// Runs `fn(const read_model_txn&) -> result<R>` against the read models once projection
  /// `name` reached q.min_position. Errors: those of await_projection and of fn.
  template <class R, class F>
  result<R> query(const std::string& name, F&& fn, query_options q = {});

  /// Runs `fn(const Model&)` against an in-memory projection found by name once it
  /// reached q.min_position; returns fn's result (wrapped in result<>). Errors: not_found,
  /// bad_request when the model type differs, those of await_projection. The handle from
  /// add_projection needs neither.
  template <class Model, class F>
  auto query_memory(const std::string& name, F&& fn, query_options q = {})
    -> result<decltype(fn(std::declval<const Model&>()))>;

  /// Status of every projection and process manager (lag against the journal's head).
  std::vector<projection_info> projections() const;
  /// Status of one. Errors: not_found.
  result<projection_info> projection(const std::string& name) const;

  // Operator controls: each waits (up to 30 s) for the projection's acknowledgement.
  // Errors: not_found (no such projection), unavailable (not running, or no answer).

  /// Runs a faulted or stopped projection again from its checkpoint.
  status restart_projection(const std::string& name);
  /// Skips the event a faulted projection failed at and runs on. Errors also: bad_request
  /// when it is not faulted at an event.
  status skip_projection_event(const std::string& name);
  /// Drops the projection's read model and checkpoint and replays the journal into it.
  status rebuild_projection(const std::string& name);
  /// Stops the projection until restart_projection; its read model keeps what it holds.
  status stop_projection(const std::string& name);

  // -- accessors (valid for the runtime's lifetime) -----------------------------------------

  /// The actor system the runtime's actors run in (its own, or the host's). Include CAF's
  /// headers to use it.
  caf::actor_system& system() noexcept;
  /// The event journal, for reads (events, streams, snapshots); appends go through
  /// aggregates, never through it, while the runtime runs.
  event_store& store() noexcept;
  /// The read-model store of the durable projections and process managers.
  read_model_store& read_models() noexcept;
  /// Types of stored events; register extra types and upcasters before start().
  event_registry& registry() noexcept;
  /// Counters of the journal writer (events, appends, commits, snapshots written).
  const journal_metrics& metrics() const noexcept;
  /// The configuration in effect (with the CAF command line and config file applied).
  const runtime_config& config() const noexcept;
  /// The event bus actor (committed batches in global order; see annal/event_bus.hpp).
  caf::actor event_bus() const;

  struct impl; // (public only for the implementation's free helpers)

private:
  template <class A>
  friend struct detail::aggregate_host;

  explicit runtime(std::unique_ptr<impl> p);
  // The non-template core of send<A>: forwards the command or sends it to the local router.
  void send_command(detail::outgoing_command cmd, std::function<void(command_result)> done);
  // Sends the command at `cmd` (moved from) to the local router of `type`.
  void send_local(std::type_index type, std::string id, void* cmd, command_options options,
                  std::function<void(command_result)> done);
  detail::aggregate_context base_context() const;
  bool hosts(std::type_index type) const;
  status add_aggregate(std::type_index type, const caf::actor& router, detail::local_sender send,
                       std::shared_ptr<detail::instance_directory> directory);
  result<caf::actor> router_of(std::type_index type) const;
  void add_dispatcher(std::string category, detail::command_dispatcher fn,
                      std::vector<std::string> tags);
  result<std::shared_ptr<projection_sink>> sink_of(const std::string& name) const;
  std::unique_ptr<impl> impl_;
};

// -- template definitions -------------------------------------------------------------------

template <class A>
status runtime::register_aggregate(aggregate_options options) {
  // Complete only where annal/aggregate_host.hpp is included.
  return detail::aggregate_host<A>::add(*this, options);
}

template <class A>
void runtime::send(std::string id, typename A::command cmd, command_options options,
                   std::function<void(command_result)> done) {
  using command = typename A::command;
  send_command({typeid(A), aggregate_traits<A>::category(), &aggregate_traits<A>::stream_id,
                std::move(id), &cmd, detail::encoder_of<command>(), std::move(options)},
               std::move(done));
}

template <class A>
std::future<command_result> runtime::send(std::string id, typename A::command cmd,
                                          command_options options) {
  auto p = std::make_shared<std::promise<command_result>>();
  auto f = p->get_future();
  send<A>(std::move(id), std::move(cmd), std::move(options),
          [p](command_result r) { p->set_value(std::move(r)); });
  return f;
}

template <class A>
result<aggregate_view<typename A::state>> runtime::load(const std::string& id, as_of when) {
  auto stream = aggregate_traits<A>::stream_id(id);
  if (auto ok = validate_stream_id(stream); !ok)
    return std::move(ok).error();
  auto r = detail::load_aggregate<A>(store(), registry(), stream,
                                     detail::load_bounds{when.max_version, when.max_timestamp}, 0);
  if (!r)
    return std::move(r).error();
  if (r->version == 0)
    return make_error(errc::not_found, "no events of " + stream + " within the bound");
  return aggregate_view<typename A::state>{std::move(r->state), r->version, r->last_position};
}

template <class A>
result<aggregate_view<typename A::state>> runtime::catch_up(const std::string& id,
                                                            aggregate_view<typename A::state> base) {
  auto stream = aggregate_traits<A>::stream_id(id);
  if (auto ok = validate_stream_id(stream); !ok)
    return std::move(ok).error();
  detail::loaded_state<A> start{std::move(base.state), base.version, base.position, 0, {}, 0};
  auto r = detail::load_tail<A>(store(), registry(), stream, detail::load_bounds{}, 0, std::move(start));
  if (!r)
    return std::move(r).error();
  if (r->version == 0)
    return make_error(errc::not_found, "no events of " + stream);
  return aggregate_view<typename A::state>{std::move(r->state), r->version, r->last_position};
}

template <class Model>
result<memory_view<Model>> runtime::add_projection(memory_projection<Model> spec) {
  auto sink = std::make_shared<memory_sink<Model>>(std::move(spec.apply));
  auto name = spec.options.name;
  if (auto ok = add_sink(std::move(spec.options), sink); !ok)
    return std::move(ok).error();
  return memory_view<Model>{std::move(sink), [this, name](global_position p, std::chrono::milliseconds t) {
                              return await_projection(name, p, t);
                            }};
}

template <class R, class F>
result<R> runtime::query(const std::string& name, F&& fn, query_options q) {
  if (auto ok = await_projection(name, q.min_position, q.timeout); !ok)
    return std::move(ok).error();
  std::optional<R> out;
  auto ok = read_models().read([&](const read_model_txn& t) -> status {
    result<R> r = fn(t);
    if (!r)
      return std::move(r).error();
    out.emplace(std::move(*r));
    return {};
  });
  if (!ok)
    return std::move(ok).error();
  return std::move(*out);
}

template <class Model, class F>
auto runtime::query_memory(const std::string& name, F&& fn, query_options q)
  -> result<decltype(fn(std::declval<const Model&>()))> {
  auto sink = sink_of(name);
  if (!sink)
    return std::move(sink).error();
  auto typed = std::dynamic_pointer_cast<memory_sink<Model>>(*sink);
  if (!typed)
    return make_error(errc::bad_request, "projection '" + name + "' is not an in-memory "
                                                                "projection of this model type");
  if (auto ok = await_projection(name, q.min_position, q.timeout); !ok)
    return std::move(ok).error();
  return typed->read(std::forward<F>(fn));
}

template <class A>
reply_ref process_context::send(std::string id, typename A::command cmd, command_options options) {
  auto [ref, done] = expect_reply();
  rt().send<A>(std::move(id), std::move(cmd), prepare(std::move(options)), std::move(done));
  return ref;
}

template <class A>
status process_context::schedule(const std::string& key, timestamp_ns due, std::string id,
                                 typename A::command cmd) {
  static_assert(detail::is_serializable<typename A::command>::value,
                "scheduled commands must be cereal-serializable");
  auto bytes = to_bytes(cmd);
  if (!bytes)
    return std::move(bytes).error();
  stored_command sc;
  sc.category.assign(aggregate_traits<A>::category());
  sc.aggregate_id = std::move(id);
  sc.command_bytes = std::move(*bytes);
  return stage_timer(key, due, std::move(sc));
}

} // namespace annal
