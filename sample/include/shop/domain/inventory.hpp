// The inventory aggregate (stream "inventory-<sku>"): stock on hand and the reservations
// orders hold on it. Reservations never exceed what is on hand, so stock is never
// oversold: the aggregate decides one command at a time against its own state, however
// many orders compete for the sku. Pure domain code.
//
// Reservations are keyed by order id, which makes every command idempotent at the domain
// level too: reserving again for an order that holds the same quantity, releasing an order
// that holds nothing, or shipping an order that was shipped decides no event. The recently
// closed orders are remembered (bounded) so that a late re-delivered reserve cannot bring
// back a reservation that was released or shipped.
#pragma once

#include <cereal/types/deque.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/unordered_map.hpp>
#include <cereal/types/variant.hpp>

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>

#include "annal/decision.hpp"
#include "shop/domain/limits.hpp"

namespace shop {

// -- events ---------------------------------------------------------------------------------

struct stock_restocked {
  static constexpr std::string_view event_type = "StockRestocked";
  int64_t quantity = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(CEREAL_NVP(quantity)); }
};

struct stock_reserved {
  static constexpr std::string_view event_type = "StockReserved";
  std::string order_id;
  int64_t quantity = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(CEREAL_NVP(order_id), CEREAL_NVP(quantity)); }
};

struct stock_released {
  static constexpr std::string_view event_type = "StockReleased";
  std::string order_id;
  int64_t quantity = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(CEREAL_NVP(order_id), CEREAL_NVP(quantity)); }
};

struct stock_shipped {
  static constexpr std::string_view event_type = "StockShipped";
  std::string order_id;
  int64_t quantity = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(CEREAL_NVP(order_id), CEREAL_NVP(quantity)); }
};

// -- commands -------------------------------------------------------------------------------

struct restock {
  int64_t quantity = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(quantity); }
};

struct reserve_stock {
  std::string order_id;
  int64_t quantity = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(order_id, quantity); }
};

struct release_stock {
  std::string order_id;
  template <class Archive>
  void serialize(Archive& ar) { ar(order_id); }
};

struct ship_stock {
  std::string order_id;
  template <class Archive>
  void serialize(Archive& ar) { ar(order_id); }
};

// -- the aggregate --------------------------------------------------------------------------

/// How a reservation ended.
enum class closed_as : uint8_t { released = 1, shipped = 2 };

struct inventory_state {
  int64_t on_hand = 0;
  int64_t reserved = 0;
  /// Open reservations by order id. Hashed: a hot sku holds thousands while unpaid
  /// orders wait, and every reserve looks one up. (cereal writes a hashed map as it wrote
  /// the ordered one, so older snapshots decode.)
  std::unordered_map<std::string, int64_t> reservations;
  /// Recently closed reservations (at most closed_memory), oldest first in closed_order.
  std::unordered_map<std::string, closed_as> closed;
  std::deque<std::string> closed_order;

  int64_t available() const noexcept { return on_hand - reserved; }

  /// Equal states may serialize differently (hashed maps keep no order), so the runtime's
  /// checks compare with this (annal::same_value).
  friend bool operator==(const inventory_state& a, const inventory_state& b) {
    return a.on_hand == b.on_hand && a.reserved == b.reserved && a.reservations == b.reservations
           && a.closed == b.closed && a.closed_order == b.closed_order;
  }

  template <class Archive>
  void serialize(Archive& ar) { ar(on_hand, reserved, reservations, closed, closed_order); }
};

struct inventory {
  using state = inventory_state;
  using command = std::variant<restock, reserve_stock, release_stock, ship_stock>;
  using event = std::variant<stock_restocked, stock_reserved, stock_released, stock_shipped>;
  static constexpr std::string_view category = "inventory";

  /// Closed reservations remembered per sku.
  static constexpr std::size_t closed_memory = 2048;

  /// Restock adds units; reserve is refused when fewer units are available than asked;
  /// release and ship close an order's reservation (ship also takes the units off hand).
  static annal::decision<event> decide(const state& s, const command& c);
  static void evolve(state& s, const event& e);
};

} // namespace shop
