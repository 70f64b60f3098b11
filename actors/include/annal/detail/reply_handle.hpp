// Internal: where the reply to one command goes — a callback (callers outside CAF) or a
// response promise (callers that are actors).
#pragma once

#include <caf/response_promise.hpp>

#include <functional>

#include "annal/caf_error.hpp"
#include "annal/command_options.hpp"
#include "annal/detail/command_envelope.hpp"
#include "annal/detail/inspect.hpp"
#include "annal/detail/once_callback.hpp"

namespace annal::detail {

struct reply_handle {
  reply_callback callback;
  caf::response_promise promise;

  /// Delivers `r` once.
  void deliver(command_result r) {
    if (callback) {
      auto cb = std::move(callback);
      (*cb)(std::move(r));
      return;
    }
    if (!promise.pending())
      return;
    if (r)
      promise.deliver(*r);
    else
      promise.deliver(to_caf_error(r.error()));
  }
};

/// Where the reply to `cmd` goes: its callback (taken from it) if it has one, else `promise`.
template <class A>
reply_handle reply_to(command_envelope<A>& cmd, caf::response_promise promise) {
  if (cmd.on_reply)
    return reply_handle{std::move(cmd.on_reply), {}};
  return reply_handle{nullptr, std::move(promise)};
}

/// As above; the promise (made only when needed) answers the sender of the message `self`
/// is handling.
template <class Self, class A>
reply_handle reply_to(Self* self, command_envelope<A>& cmd) {
  if (cmd.on_reply)
    return reply_handle{std::move(cmd.on_reply), {}};
  return reply_handle{nullptr, self->make_response_promise()};
}

} // namespace annal::detail
