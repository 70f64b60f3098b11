// Fulfilment: the process manager that carries an order from placed to confirmed (or
// rejected), cancels confirmed orders left unpaid, and moves stock when orders ship or are
// cancelled.
//
//   OrderPlaced     reserve every line; all reserved -> confirm; one refused -> release
//                   what was reserved and reject the order with the reason
//   OrderConfirmed  durable timer: cancel the order when it is still unpaid after the
//                   payment timeout (counted from the confirmation's timestamp)
//   OrderPaid       cancel that timer
//   OrderShipped    ship the reserved stock of every line
//   OrderCancelled  release the reservations of every line (and cancel the timer)
//
// Every step is idempotent (deterministic command ids, and domain commands that accept a
// repeat), so re-processing events after a crash acts once.
#pragma once

#include <chrono>

#include "annal/result.hpp"

namespace annal {
class runtime;
}

namespace shop {

struct fulfilment_options {
  /// How long a confirmed order may stay unpaid before it is cancelled.
  std::chrono::milliseconds payment_timeout{std::chrono::minutes(15)};
  /// Process managers that share the orders (by a hash of the order id), each on its own
  /// thread: orders of different partitions are fulfilled in parallel. Keep it stable
  /// across restarts of a data folder: a new partition count starts new checkpoints.
  unsigned partitions = 8;
};

/// Registers the fulfilment process managers (named "fulfilment-<k>"). Needs the
/// aggregates (register_aggregates). Errors: bad_request (after start(), partitions == 0,
/// registered twice), io_error.
annal::status add_fulfilment(annal::runtime& rt, fulfilment_options options = {});

} // namespace shop
