// Calling code the user wrote (decide, evolve, projection and process-manager handlers)
// from inside Annal: what it throws becomes an error value (errc::handler_fault), so no
// exception unwinds an actor's thread or crosses the public async API.
#pragma once

#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "annal/result.hpp"

namespace annal {

/// Calls `fn()`; returns its status (when it returns one) or success, or a handler_fault
/// "<what> threw: <exception message>" when it throws. Never throws itself.
template <class F>
status call_user_code(std::string_view what, F&& fn) noexcept {
  try {
    if constexpr (std::is_void_v<decltype(fn())>) {
      std::forward<F>(fn)();
      return {};
    } else {
      return std::forward<F>(fn)();
    }
  } catch (const std::exception& e) {
    try {
      return make_error(errc::handler_fault, std::string{what} + " threw: " + e.what());
    } catch (...) {
      return error{errc::handler_fault, {}, {}}; // no memory for the message
    }
  } catch (...) {
    try {
      return make_error(errc::handler_fault, std::string{what} + " threw a non-standard exception");
    } catch (...) {
      return error{errc::handler_fault, {}, {}}; // no memory for the message
    }
  }
}

} // namespace annal
