// What a decider returns: the events a command produces, or a rejection with a reason.
// Pure domain vocabulary: no CAF, no LMDB.
#pragma once

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace annal {

/// A command refused by a domain rule.
struct rejection {
  std::string reason;
};

/// Returns a rejection with `reason`, e.g. `return annal::reject("insufficient funds");`.
inline rejection reject(std::string reason) {
  return rejection{std::move(reason)};
}

/// The outcome of decide(state, command): zero or more events, or a rejection.
/// Converts implicitly from a rejection, one event (any alternative of the event
/// variant) or a vector of events.
template <class Event>
class decision {
public:
  /// Accepted, with no events.
  decision() = default;

  decision(rejection r) : rejected_(true), reason_(std::move(r.reason)) {}

  decision(std::vector<Event> events) : events_(std::move(events)) {}

  template <class E, class = std::enable_if_t<std::is_constructible_v<Event, E&&>
                                              && !std::is_same_v<std::decay_t<E>, rejection>
                                              && !std::is_same_v<std::decay_t<E>, decision>>>
  decision(E&& event) {
    events_.emplace_back(std::forward<E>(event));
  }

  bool rejected() const noexcept { return rejected_; }
  /// The rejection reason. REQUIRES: rejected().
  const std::string& reason() const noexcept { return reason_; }
  /// The decided events (empty when rejected).
  std::vector<Event>& events() noexcept { return events_; }
  const std::vector<Event>& events() const noexcept { return events_; }

private:
  bool rejected_ = false;
  std::string reason_;
  std::vector<Event> events_;
};

} // namespace annal
