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
// repeat), so re-processing events after a crash acts once; and no step undoes an effect
// before the decision that undoes it is recorded (reject or cancel, then release), so a
// re-run never trusts a replayed success whose effect was undone since.
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
  /// Process managers that share the orders by a hash of the order id. One is enough: a
  /// manager handles many orders at once (it never blocks on a command). Changing the
  /// count on an existing folder is safe: the new managers resume from the lowest
  /// checkpoint of the old ones and handle again, idempotently, what lies beyond it.
  unsigned partitions = 1;
};

/// Registers the fulfilment process managers (named "fulfilment-<k>", k < partitions).
/// Needs the aggregates (register_aggregates). Errors: bad_request (after start(),
/// partitions == 0, registered twice), io_error.
annal::status add_fulfilment(annal::runtime& rt, fulfilment_options options = {});

} // namespace shop
