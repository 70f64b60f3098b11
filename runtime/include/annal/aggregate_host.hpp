// Hosting aggregate types in a runtime: register_aggregate<A>() spawns A's router, whose
// actors are templates over A, so this header brings CAF and the actors' internals.
// Include it only in the translation units that register aggregates (or talk to their
// routers as actors: router<A>(), make_command<A>()); the rest of an application sends
// commands and loads states with annal/runtime.hpp alone.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "annal/detail/aggregate_context.hpp"
#include "annal/detail/aggregate_router.hpp"
#include "annal/detail/command_envelope.hpp"
#include "annal/runtime.hpp"

namespace annal {

/// A command addressed to instance `id` of aggregate A, for actors that request it from
/// runtime::router<A>() (the reply is a command_reply, or a caf::error of category
/// "annal": see from_caf_error). Its deadline starts now (options.timeout).
template <class A>
detail::command_envelope<A> make_command(std::string id, typename A::command cmd,
                                         command_options options = {}) {
  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  return {std::move(id), std::move(cmd), std::move(options), deadline, nullptr};
}

namespace detail {

template <class A, class = void>
struct has_tags : std::false_type {};
template <class A>
struct has_tags<A, std::void_t<decltype(A::tags())>> : std::true_type {};

/// What runtime::register_aggregate<A>() runs: spawns A's router and installs the erased
/// paths into it (typed commands, serialized commands from timers and peers).
template <class A>
struct aggregate_host {
  using command = typename A::command;

  static status add(runtime& rt, aggregate_options options) {
    if (rt.running())
      return make_error(errc::bad_request, "register aggregates before start()");
    if (rt.hosts(typeid(A)))
      return make_error(errc::already_exists, std::string{aggregate_traits<A>::category()}
                                                + " is registered already");
    aggregate_traits<A>::register_events(rt.registry());
    rt.add_dispatcher(std::string{aggregate_traits<A>::category()}, dispatcher(rt), tags());
    auto ctx = std::make_shared<aggregate_context>(rt.base_context());
    ctx->options = options;
    ctx->passivated = std::make_shared<passivated_states>(options.passivated_state_bytes);
    auto directory = std::make_shared<instance_directory>([](const std::string& id, uint16_t shard_count) {
      return shard_of_stream(aggregate_traits<A>::stream_id(id), shard_count);
    });
    auto router = rt.system().spawn(aggregate_router<A>,
                                    std::shared_ptr<const aggregate_context>{std::move(ctx)}, directory);
    return rt.add_aggregate(typeid(A), router, sender(router, directory), directory);
  }

  // Builds the envelope of a typed command and hands it to its live instance, or to the
  // router.
  static local_sender sender(caf::actor router, std::shared_ptr<instance_directory> directory) {
    return [router, directory](std::string id, void* cmd, command_options o,
                               std::function<void(command_result)> done) {
      auto env = make_command<A>(std::move(id), std::move(*static_cast<command*>(cmd)), std::move(o));
      env.on_reply = std::make_shared<once_callback>(std::move(done));
      dispatch_command<A>(*directory, router, std::move(env));
    };
  }

  // Decodes a serialized command and sends it on (none when A's commands are not
  // serializable: timers and peers cannot reach A then).
  static command_dispatcher dispatcher(runtime& rt) {
    if constexpr (is_serializable<command>::value) {
      return [&rt](const std::string& id, const std::string& bytes, command_options o,
                   bool local_only, std::function<void(command_result)> done) {
        auto cmd = from_bytes<command>(bytes);
        if (!cmd)
          return done(std::move(cmd).error());
        if (local_only)
          rt.send_local(typeid(A), id, &*cmd, std::move(o), std::move(done));
        else
          rt.send<A>(id, std::move(*cmd), std::move(o), std::move(done));
      };
    } else {
      (void)rt;
      return {};
    }
  }

  static std::vector<std::string> tags() {
    std::vector<std::string> out;
    if constexpr (has_tags<A>::value)
      for (const auto& t : A::tags())
        out.emplace_back(t);
    return out;
  }
};

} // namespace detail

template <class A>
result<caf::actor> runtime::router() const {
  return router_of(typeid(A));
}

} // namespace annal
