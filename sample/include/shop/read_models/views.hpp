// The rows of the shop's read models, as queries return them. Stored as cereal binary;
// rendered as JSON by the HTTP layer.
#pragma once

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "annal/expected_version.hpp"
#include "shop/domain/order.hpp"

namespace shop {

/// A catalog entry.
struct product_view {
  std::string sku;
  std::string name;
  cents price_cents = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(sku, name, price_cents); }
  friend bool operator==(const product_view& a, const product_view& b) {
    return a.sku == b.sku && a.name == b.name && a.price_cents == b.price_cents;
  }
};

/// Stock of one sku.
struct inventory_view {
  std::string sku;
  int64_t on_hand = 0;
  int64_t reserved = 0;
  int64_t available() const noexcept { return on_hand - reserved; }
  template <class Archive>
  void serialize(Archive& ar) { ar(sku, on_hand, reserved); }
  friend bool operator==(const inventory_view& a, const inventory_view& b) {
    return a.sku == b.sku && a.on_hand == b.on_hand && a.reserved == b.reserved;
  }
};

/// One order in detail.
struct order_view {
  std::string order_id;
  std::string customer_id;
  order_status status = order_status::none;
  std::vector<order_line> lines;
  cents total_cents = 0;
  /// Version of the order's stream this view reflects.
  annal::stream_version version = 0;
  /// Why it was rejected or cancelled (empty otherwise).
  std::string reason;
  template <class Archive>
  void serialize(Archive& ar) { ar(order_id, customer_id, status, lines, total_cents, version, reason); }
};

/// The view of an order loaded from its stream (temporal reads: its first `version` events).
order_view make_order_view(const order_state& s, annal::stream_version version);

/// One order in a customer's list.
struct customer_order_view {
  std::string order_id;
  order_status status = order_status::none;
  cents total_cents = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(order_id, status, total_cents); }
};

/// Sales of one sku over paid and shipped orders.
struct sales_view {
  std::string sku;
  int64_t units = 0;
  cents revenue_cents = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(sku, units, revenue_cents); }
};

} // namespace shop
