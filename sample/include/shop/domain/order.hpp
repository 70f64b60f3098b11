// The order aggregate (stream "order-<id>"): a customer's lines with the prices of the
// moment it was placed, and its life cycle
//
//   placed -> confirmed | rejected      (by fulfilment, after reserving the stock)
//   confirmed -> paid                   (the amount must equal the total)
//   paid -> shipped
//   placed | confirmed -> cancelled     (by the customer, or the payment timeout)
//
// Anything else is refused with a reason. Confirming an order that is past confirmation,
// or rejecting a rejected one, decides no event, so that fulfilment can repeat itself
// safely. Pure domain code.
#pragma once

#include <cereal/types/string.hpp>
#include <cereal/types/variant.hpp>
#include <cereal/types/vector.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "annal/decision.hpp"
#include "shop/domain/limits.hpp"

namespace shop {

/// Where an order stands.
enum class order_status : uint8_t { none, placed, confirmed, rejected, paid, shipped, cancelled };

/// Returns "none", "placed", "confirmed", "rejected", "paid", "shipped" or "cancelled".
const char* to_string(order_status s) noexcept;

/// One line: units of a sku at the price it had when the order was placed.
struct order_line {
  std::string sku;
  int64_t quantity = 0;
  cents price_cents = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(CEREAL_NVP(sku), CEREAL_NVP(quantity), CEREAL_NVP(price_cents)); }
};

/// The sum of quantity x price over `lines`, or -1 when a term is out of bounds.
cents order_total(const std::vector<order_line>& lines) noexcept;

// -- events ---------------------------------------------------------------------------------

struct order_placed {
  static constexpr std::string_view event_type = "OrderPlaced";
  std::string order_id;
  std::string customer_id;
  std::vector<order_line> lines;
  cents total_cents = 0;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(order_id), CEREAL_NVP(customer_id), CEREAL_NVP(lines), CEREAL_NVP(total_cents));
  }
};

struct order_confirmed {
  static constexpr std::string_view event_type = "OrderConfirmed";
  template <class Archive>
  void serialize(Archive&) {}
};

struct order_rejected {
  static constexpr std::string_view event_type = "OrderRejected";
  std::string reason;
  template <class Archive>
  void serialize(Archive& ar) { ar(CEREAL_NVP(reason)); }
};

struct order_paid {
  static constexpr std::string_view event_type = "OrderPaid";
  cents amount_cents = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(CEREAL_NVP(amount_cents)); }
};

struct order_shipped {
  static constexpr std::string_view event_type = "OrderShipped";
  template <class Archive>
  void serialize(Archive&) {}
};

struct order_cancelled {
  static constexpr std::string_view event_type = "OrderCancelled";
  std::string reason;
  template <class Archive>
  void serialize(Archive& ar) { ar(CEREAL_NVP(reason)); }
};

// -- commands -------------------------------------------------------------------------------

struct place_order {
  std::string order_id;
  std::string customer_id;
  std::vector<order_line> lines;
  template <class Archive>
  void serialize(Archive& ar) { ar(order_id, customer_id, lines); }
};

struct confirm_order {
  template <class Archive>
  void serialize(Archive&) {}
};

struct reject_order {
  std::string reason;
  template <class Archive>
  void serialize(Archive& ar) { ar(reason); }
};

struct pay_order {
  cents amount_cents = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(amount_cents); }
};

struct ship_order {
  template <class Archive>
  void serialize(Archive&) {}
};

struct cancel_order {
  std::string reason;
  template <class Archive>
  void serialize(Archive& ar) { ar(reason); }
};

// -- the aggregate --------------------------------------------------------------------------

struct order_state {
  order_status status = order_status::none;
  std::string order_id;
  std::string customer_id;
  std::vector<order_line> lines;
  cents total_cents = 0;
  cents paid_cents = 0;
  /// Why it was rejected or cancelled.
  std::string reason;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(status, order_id, customer_id, lines, total_cents, paid_cents, reason);
  }
};

struct order {
  using state = order_state;
  using command = std::variant<place_order, confirm_order, reject_order, pay_order, ship_order,
                               cancel_order>;
  using event = std::variant<order_placed, order_confirmed, order_rejected, order_paid,
                             order_shipped, order_cancelled>;
  static constexpr std::string_view category = "order";

  static annal::decision<event> decide(const state& s, const command& c);
  static void evolve(state& s, const event& e);
};

} // namespace shop
