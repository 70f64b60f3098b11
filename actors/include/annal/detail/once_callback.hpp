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

/// Calls `fn` exactly once: with the first result given, or — if none was given by the
/// time the last holder lets go — with errc::unavailable and `dropped` as its message.
template <class Result>
class once_delivery {
public:
  once_delivery(std::function<void(Result)> fn, const char* dropped)
    : fn_(std::move(fn)), dropped_(dropped) {}

  ~once_delivery() { (*this)(make_error(errc::unavailable, dropped_)); }

  once_delivery(const once_delivery&) = delete;
  once_delivery& operator=(const once_delivery&) = delete;

  /// Delivers `r` unless a result was delivered already. A throwing user callback is
  /// contained: it must not kill the actor that calls it.
  void operator()(Result r) noexcept {
    if (done_.exchange(true) || !fn_)
      return;
    try {
      fn_(std::move(r));
    } catch (...) {
      // The caller's callback failed; the outcome stands.
    }
  }

  /// True once a result was delivered.
  bool delivered() const noexcept { return done_.load(); }

private:
  std::function<void(Result)> fn_;
  const char* dropped_;
  std::atomic<bool> done_{false};
};

/// A command's outcome, delivered once.
class once_callback : public once_delivery<command_result> {
public:
  explicit once_callback(std::function<void(command_result)> fn)
    : once_delivery(std::move(fn), "the runtime dropped the command before it ran") {}
};

/// Shared by every copy of a command's message; the last one to go fires the fallback.
using reply_callback = std::shared_ptr<once_callback>;

} // namespace annal::detail
