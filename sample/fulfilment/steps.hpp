// Internal: the steps of fulfilment, one per order event. Each runs on the thread of its
// process manager, may block on the commands it sends, and returns an error only for
// failures worth retrying (the event is then handled again, with the same command ids).
#pragma once

#include <chrono>
#include <string>

#include "annal/process_manager.hpp"
#include "shop/domain/order.hpp"

namespace shop::detail {

/// What every step needs besides the event.
struct step_context {
  annal::process_context& ctx;
  /// The order's id (the stream is "order-<id>").
  std::string order_id;
  /// Prefix of the ids of the commands this event causes: "<manager>/<position>/".
  std::string command_prefix;
};

/// Reserves every line; then confirms the order, or releases and rejects it.
annal::status on_order_placed(step_context& s);

/// Arms the payment timer: the order is cancelled unless paid within `timeout` of the
/// confirmation (event time `confirmed_at`, UTC ns).
annal::status on_order_confirmed(step_context& s, annal::timestamp_ns confirmed_at,
                                 std::chrono::milliseconds timeout);

/// Disarms the payment timer.
annal::status on_order_paid(step_context& s);

/// Ships the reserved stock of every line.
annal::status on_order_shipped(step_context& s);

/// Releases the reservations of every line and disarms the payment timer.
annal::status on_order_cancelled(step_context& s);

/// Name of the payment timer of an order.
inline std::string payment_timer(const std::string& order_id) {
  return "payment/" + order_id;
}

/// True for errors that a retry may cure (the store, the runtime, time), false for
/// refusals of the domain or of bad input.
bool worth_retrying(const annal::error& e) noexcept;

} // namespace shop::detail
