// Internal: the reply path of commands sent from outside CAF. The callback runs exactly
// once — with the command's outcome or, if every holder lets go of it first (the command
// was dropped: its actor is gone, the runtime stopped), with errc::unavailable — so a
// caller never waits forever on a command the runtime could not finish.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "annal/command_options.hpp"

namespace annal::detail {

class once_callback {
public:
  explicit once_callback(std::function<void(command_result)> fn) : fn_(std::move(fn)) {}

  ~once_callback() {
    (*this)(make_error(errc::unavailable, "the runtime dropped the command before it ran"));
  }

  once_callback(const once_callback&) = delete;
  once_callback& operator=(const once_callback&) = delete;

  /// Delivers `r` unless an outcome was delivered already. A throwing user callback is
  /// contained: it must not kill the actor that calls it.
  void operator()(command_result r) noexcept {
    if (done_.exchange(true) || !fn_)
      return;
    try {
      fn_(std::move(r));
    } catch (...) {
      // The caller's callback failed; the command's outcome stands.
    }
  }

private:
  std::function<void(command_result)> fn_;
  std::atomic<bool> done_{false};
};

/// Shared by every copy of a command's message; the last one to go fires the fallback.
using reply_callback = std::shared_ptr<once_callback>;

} // namespace annal::detail
