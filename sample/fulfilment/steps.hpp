// Internal: the steps of fulfilment, one per order event. Each runs on the thread of its
// process manager and never blocks on a command: it sends commands and continues on their
// replies. A step fails (and the event is handled again, with the same command ids) only
// for failures worth retrying (annal::is_transient).
#pragma once

#include <chrono>
#include <string>

#include "annal/process_manager.hpp"
#include "shop/domain/order.hpp"

namespace shop::detail {

/// What every step needs besides the process context.
struct step_context {
  /// The order's id (the stream is "order-<id>").
  std::string order_id;
  /// Prefix of the ids of the commands this event causes: "<manager>/<stream>@<version>/".
  std::string command_prefix;
};

/// Reserves every line; then confirms the order, or rejects it and, once the rejection is
/// recorded, releases what was reserved. Re-run on a rejected order, it finishes the
/// release.
annal::status on_order_placed(annal::process_context& ctx, const step_context& s);

/// Arms the payment timer: the order is cancelled unless paid within `timeout` of the
/// confirmation (event time `confirmed_at`, UTC ns).
annal::status on_order_confirmed(annal::process_context& ctx, const step_context& s,
                                 annal::timestamp_ns confirmed_at, std::chrono::milliseconds timeout);

/// Disarms the payment timer.
annal::status on_order_paid(annal::process_context& ctx, const step_context& s);

/// Ships the reserved stock of every line.
annal::status on_order_shipped(annal::process_context& ctx, const step_context& s);

/// Releases the reservations of every line and disarms the payment timer.
annal::status on_order_cancelled(annal::process_context& ctx, const step_context& s);

/// Name of the payment timer of an order.
inline std::string payment_timer(const std::string& order_id) {
  return "payment/" + order_id;
}

} // namespace shop::detail
