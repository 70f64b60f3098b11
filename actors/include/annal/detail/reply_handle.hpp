// Internal: where the reply to one command goes — a callback (callers outside CAF) or a
// response promise (callers that are actors).
#pragma once

#include <caf/response_promise.hpp>

#include <functional>

#include "annal/caf_error.hpp"
#include "annal/command_options.hpp"
#include "annal/detail/inspect.hpp"

namespace annal::detail {

struct reply_handle {
  std::function<void(command_result)> callback;
  caf::response_promise promise;

  /// Delivers `r` once. A throwing user callback is contained (it must not kill the
  /// aggregate that calls it).
  void deliver(command_result r) {
    if (callback) {
      auto cb = std::move(callback);
      callback = nullptr;
      try {
        cb(std::move(r));
      } catch (...) {
        // The caller's callback failed; the command's outcome stands.
      }
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

} // namespace annal::detail
