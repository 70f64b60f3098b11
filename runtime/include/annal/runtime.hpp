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

#include "annal/aggregate_options.hpp"
#include "annal/aggregate_traits.hpp"
#include "annal/aggregate_view.hpp"
#include "annal/command_options.hpp"
#include "annal/detail/aggregate_context.hpp"
#include "annal/detail/aggregate_router.hpp"
#include "annal/detail/command_envelope.hpp"
#include "annal/event_registry.hpp"
#include "annal/event_store.hpp"
#include "annal/journal_writer.hpp"
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

class runtime {
public:
  /// Opens the stores under cfg.data_dir and starts an actor system of its own, configured
  /// from cfg.caf_args and cfg.caf_config_file. Errors: bad_request (bad CAF options),
  /// io_error / corrupt (stores).
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
  /// thread (keep it short, do not block). Never throws.
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

  /// Graceful stop: stop accepting, let every instance finish its in-flight commands,
  /// flush the journal, stop the actors. Idempotent.
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

private:
  struct impl;
  explicit runtime(std::unique_ptr<impl> p);
  detail::aggregate_context base_context() const;
  status add_router(std::type_index type, caf::actor router);
  result<caf::actor> router_of(std::type_index type) const;
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
  if (!running())
    return done(make_error(errc::unavailable, "the runtime is not running"));
  auto r = router_of(typeid(A));
  if (!r)
    return done(std::move(r).error());
  auto env = make_command<A>(std::move(id), std::move(cmd), std::move(options));
  env.on_reply = std::move(done);
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
