// The embedding API of Annal: one object that owns (or borrows) a CAF actor system, opens
// the stores in a data folder, hosts aggregate types, and stops gracefully.
//
//   auto rt = annal::runtime::open(cfg);          // result<std::unique_ptr<runtime>>
//   (*rt)->register_aggregate<account>();
//   (*rt)->start();
//   auto r = (*rt)->send<account>("42", deposit{100}).get();   // command_result
//
// Thread safety: register_*() and start() are for one thread before use; send(), load()
// and the accessors are safe from any thread once started; stop() once, from one thread.
#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/send.hpp>

#include <future>
#include <memory>
#include <typeindex>

#include <cereal/details/traits.hpp>

#include "annal/aggregate_options.hpp"
#include "annal/aggregate_traits.hpp"
#include "annal/aggregate_view.hpp"
#include "annal/command_forwarder.hpp"
#include "annal/command_options.hpp"
#include "annal/detail/aggregate_context.hpp"
#include "annal/detail/aggregate_router.hpp"
#include "annal/detail/command_envelope.hpp"
#include "annal/event_registry.hpp"
#include "annal/event_store.hpp"
#include "annal/durable_projection.hpp"
#include "annal/journal_writer.hpp"
#include "annal/memory_projection.hpp"
#include "annal/process_manager.hpp"
#include "annal/projection_monitor.hpp"
#include "annal/read_model_store.hpp"
#include "annal/runtime_config.hpp"

namespace annal {

/// A command addressed to instance `id` of aggregate A, for actors that request it from
/// runtime::router<A>() (the reply is a command_reply, or a caf::error of category
/// "annal": see from_caf_error).
template <class A>
detail::command_envelope<A> make_command(std::string id, typename A::command cmd,
                                         command_options options = {}) {
  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  return {std::move(id), std::move(cmd), std::move(options), deadline, nullptr};
}

/// How long a query may wait for its projection to reach a position (read-your-writes).
struct query_options {
  /// The position the read model must reflect first (e.g. a command_reply's position);
  /// 0: answer from whatever the model holds now.
  global_position min_position = 0;
  std::chrono::milliseconds timeout{5000};
};

namespace detail {
/// Sends a serialized command (aggregate id, cereal bytes, options) to its aggregate;
/// registered per aggregate type. `local_only`: run it here even if a forwarder would
/// send it elsewhere (a command that a peer forwarded to this node).
using command_dispatcher = std::function<void(const std::string& aggregate_id, const std::string& bytes,
                                              command_options, bool local_only,
                                              std::function<void(command_result)>)>;

template <class T>
struct is_serializable
  : std::integral_constant<bool, cereal::traits::is_output_serializable<T, binary_output_archive>::value
                                   && cereal::traits::is_input_serializable<T, binary_input_archive>::value> {};

// cereal's variant support accepts any std::variant: look at the alternatives instead.
template <class... Ts>
struct is_serializable<std::variant<Ts...>>
  : std::integral_constant<bool, (is_serializable<Ts>::value && ...)> {};

template <class A, class = void>
struct has_tags : std::false_type {};
template <class A>
struct has_tags<A, std::void_t<decltype(A::tags())>> : std::true_type {};
} // namespace detail

class runtime {
public:
  /// Opens the stores under cfg.data_dir and starts an actor system of its own, configured
  /// from cfg.caf_args and cfg.caf_config_file. The runtime locks the folder for its
  /// lifetime. Errors: bad_request (bad CAF options), unavailable (the folder is in use by
  /// another runtime), io_error / corrupt (stores).
  static result<std::unique_ptr<runtime>> open(runtime_config cfg);

  /// As open(cfg), but runs its actors in the host's actor system, which must outlive the
  /// runtime.
  static result<std::unique_ptr<runtime>> open(caf::actor_system& host, runtime_config cfg);

  /// Stops (if not stopped yet) and closes everything.
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Hosts aggregate type A (see aggregate_traits.hpp) and registers its event types.
  /// Errors: bad_request after start() or when A is registered already.
  template <class A>
  status register_aggregate(aggregate_options options = {});

  /// Starts accepting commands. Before start() and after stop(), commands fail with
  /// errc::unavailable.
  status start();

  /// Sends `cmd` to instance `id` of A; `done` runs once with the outcome, on an actor
  /// thread (keep it short, do not block). Never throws. With a forwarder installed
  /// (set_forwarder) and A's stream on another node, the command runs there.
  template <class A>
  void send(std::string id, typename A::command cmd, command_options options,
            std::function<void(command_result)> done);

  /// As above, with the outcome delivered through a future.
  template <class A>
  std::future<command_result> send(std::string id, typename A::command cmd,
                                   command_options options = {});

  /// The router of A, for actors that send commands by request/response (make_command).
  /// Errors: bad_request when A is not registered.
  template <class A>
  result<caf::actor> router() const;

  /// Loads the state of instance `id` of A from the store without touching the live actor:
  /// now, at a version, or as of a time. Runs on the calling thread. Errors: not_found (no
  /// such instance, or nothing within the bound), stream_deleted, corrupt, io_error.
  template <class A>
  result<aggregate_view<typename A::state>> load(const std::string& id, as_of when = as_of::latest());

  // -- projections and process managers (register before start()) ------------------------

  /// Registers a durable projection. Errors: bad_request (after start, duplicate name),
  /// io_error (opening its tables).
  status add_projection(durable_projection spec);

  /// Registers an in-memory projection; the returned typed handle answers queries
  /// (memory_view::query), no name or type check needed.
  template <class Model>
  result<memory_view<Model>> add_projection(memory_projection<Model> spec);

  /// Registers a process manager.
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
  /// reached q.min_position; returns fn's result (wrapped in result<>). Errors: bad_request
  /// when the model type differs. The handle from add_projection needs neither.
  template <class Model, class F>
  auto query_memory(const std::string& name, F&& fn, query_options q = {})
    -> result<decltype(fn(std::declval<const Model&>()))>;

  /// Status of every projection and process manager (lag against the journal's head).
  std::vector<projection_info> projections() const;
  /// Status of one. Errors: not_found.
  result<projection_info> projection(const std::string& name) const;

  /// Operator controls (wait for the projection's acknowledgement). Errors: not_found,
  /// bad_request (skip when not faulted at an event), unavailable.
  status restart_projection(const std::string& name);
  status skip_projection_event(const std::string& name);
  status rebuild_projection(const std::string& name);
  status stop_projection(const std::string& name);

  /// Sends a stored command to its aggregate (used by durable timers). Errors reach
  /// `done`: bad_request when the category has no serializable commands registered.
  void dispatch(const stored_command& cmd, std::function<void(command_result)> done);

  /// Installs the cluster's forwarder (before start()): send<A>() hands it every command
  /// whose stream it calls remote, serialized (A::command must be cereal-serializable,
  /// else such a command fails with bad_request). Errors: bad_request after start().
  status set_forwarder(std::shared_ptr<command_forwarder> forwarder);

  /// Runs a command that another node forwarded here on this node's router, never
  /// forwarding it again. Errors reach `done`: bad_request (category without serializable
  /// commands, undecodable bytes), unavailable (not running), and every command error.
  void run_forwarded(const forwarded_command& cmd, std::function<void(command_result)> done);

  /// Graceful stop: stop accepting, let every instance finish its in-flight commands,
  /// flush the journal, stop the actors, release the folder lock (loads and store reads
  /// keep working; write nothing through store() after stop). Idempotent.
  status stop();

  /// True between start() and stop().
  bool running() const noexcept;

  caf::actor_system& system() noexcept;
  event_store& store() noexcept;
  read_model_store& read_models() noexcept;
  /// Types of stored events; register extra types and upcasters before start().
  event_registry& registry() noexcept;
  const journal_metrics& metrics() const noexcept;
  const runtime_config& config() const noexcept;
  /// The event bus actor (committed batches in global order).
  caf::actor event_bus() const;

  struct impl; // (public only for the implementation's free helpers)

private:
  explicit runtime(std::unique_ptr<impl> p);
  detail::aggregate_context base_context() const;
  status add_router(std::type_index type, caf::actor router);
  result<caf::actor> router_of(std::type_index type) const;
  void add_dispatcher(std::string category, detail::command_dispatcher fn,
                      std::vector<std::string> tags);
  command_forwarder* forwarder() const noexcept;
  template <class A>
  void send_local(std::string id, typename A::command cmd, command_options options,
                  std::function<void(command_result)> done);
  status add_sink(projection_options options, std::shared_ptr<projection_sink> sink);
  result<std::shared_ptr<projection_sink>> sink_of(const std::string& name) const;
  std::unique_ptr<impl> impl_;
};

// -- template definitions -------------------------------------------------------------------

template <class A>
status runtime::register_aggregate(aggregate_options options) {
  if (running())
    return make_error(errc::bad_request, "register aggregates before start()");
  if (router_of(typeid(A)))
    return make_error(errc::already_exists, std::string{aggregate_traits<A>::category()}
                                              + " is registered already");
  aggregate_traits<A>::register_events(registry());
  detail::command_dispatcher dispatch_fn;
  if constexpr (detail::is_serializable<typename A::command>::value) {
    dispatch_fn = [this](const std::string& id, const std::string& bytes, command_options o,
                         bool local_only, std::function<void(command_result)> done) {
      auto cmd = from_bytes<typename A::command>(bytes);
      if (!cmd)
        return done(std::move(cmd).error());
      if (local_only)
        send_local<A>(id, std::move(*cmd), std::move(o), std::move(done));
      else
        send<A>(id, std::move(*cmd), std::move(o), std::move(done));
    };
  }
  std::vector<std::string> tags;
  if constexpr (detail::has_tags<A>::value)
    for (const auto& t : A::tags())
      tags.emplace_back(t);
  add_dispatcher(std::string{aggregate_traits<A>::category()}, std::move(dispatch_fn), std::move(tags));
  auto ctx = std::make_shared<detail::aggregate_context>(base_context());
  ctx->options = options;
  return add_router(typeid(A), system().spawn(detail::aggregate_router<A>,
                                              std::shared_ptr<const detail::aggregate_context>{
                                                std::move(ctx)}));
}

template <class A>
result<caf::actor> runtime::router() const {
  return router_of(typeid(A));
}

template <class A>
void runtime::send(std::string id, typename A::command cmd, command_options options,
                   std::function<void(command_result)> done) {
  auto* f = forwarder();
  if (f != nullptr && running()) {
    auto stream = aggregate_traits<A>::stream_id(id);
    if (f->is_remote(stream)) {
      if constexpr (detail::is_serializable<typename A::command>::value) {
        auto bytes = to_bytes(cmd);
        if (!bytes)
          return done(std::move(bytes).error());
        f->forward({std::string{aggregate_traits<A>::category()}, std::move(id), std::move(stream),
                    std::move(*bytes), std::move(options)},
                   std::move(done));
      } else {
        done(make_error(errc::bad_request, std::string{aggregate_traits<A>::category()}
                                             + " commands are not cereal-serializable: they cannot"
                                               " go to the node that owns " + stream));
      }
      return;
    }
  }
  send_local<A>(std::move(id), std::move(cmd), std::move(options), std::move(done));
}

template <class A>
void runtime::send_local(std::string id, typename A::command cmd, command_options options,
                         std::function<void(command_result)> done) {
  if (!running())
    return done(make_error(errc::unavailable, "the runtime is not running"));
  auto r = router_of(typeid(A));
  if (!r)
    return done(std::move(r).error());
  auto env = make_command<A>(std::move(id), std::move(cmd), std::move(options));
  env.on_reply = std::make_shared<detail::once_callback>(std::move(done));
  caf::anon_send(*r, std::move(env));
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

} // namespace annal
