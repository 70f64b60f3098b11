// Internal: a command of aggregate type A on its way through the router to an instance.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>

#include <chrono>
#include <functional>
#include <string>

#include "annal/command_options.hpp"
#include "annal/detail/once_callback.hpp"

namespace annal::detail {

template <class A>
struct command_envelope {
  /// Instance id (the stream is "<category>-<id>").
  std::string aggregate_id;
  typename A::command command;
  command_options options;
  /// Absolute deadline derived from options.timeout when the command was sent.
  std::chrono::steady_clock::time_point deadline;
  /// Set for callers outside CAF; empty when the reply goes to a requesting actor.
  reply_callback on_reply;
  /// Sent through instance_directory::dispatch to the router, which reports it routed.
  bool counted = false;
};

} // namespace annal::detail

namespace caf {
// Commands are user types without inspect(); they travel locally only (a cluster
// transport forwards them serialized with cereal instead).
template <class A>
struct allowed_unsafe_message_type<annal::detail::command_envelope<A>> : std::true_type {};
} // namespace caf
