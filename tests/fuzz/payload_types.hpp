// Event types of the payload fuzzer and of the corpus generator: shaped like real domain
// events (strings, integers of every width, vectors of structs, nested vectors, a map, a
// bool, an enum), with an upcaster chain OrderPlaced v1 -> v2 -> v3.
#pragma once

#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <cstdint>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "annal/event_registry.hpp"

namespace annal::fuzz {

struct line_item {
  std::string sku;
  uint32_t quantity = 0;
  int64_t unit_price_cents = 0;
  std::vector<std::string> options; // a vector<string> nested in a vector of structs

  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(sku), CEREAL_NVP(quantity), CEREAL_NVP(unit_price_cents), CEREAL_NVP(options));
  }
  friend bool operator==(const line_item& a, const line_item& b) {
    return a.sku == b.sku && a.quantity == b.quantity && a.unit_price_cents == b.unit_price_cents
           && a.options == b.options;
  }
};

struct order_placed_v1 {
  static constexpr std::string_view event_type = "OrderPlaced";
  static constexpr uint32_t schema_version = 1;
  std::string order_id;
  std::vector<std::string> skus;
  uint32_t total_cents = 0;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(order_id), CEREAL_NVP(skus), CEREAL_NVP(total_cents));
  }
  friend bool operator==(const order_placed_v1& a, const order_placed_v1& b) {
    return a.order_id == b.order_id && a.skus == b.skus && a.total_cents == b.total_cents;
  }
};

struct order_placed_v2 {
  static constexpr std::string_view event_type = "OrderPlaced";
  static constexpr uint32_t schema_version = 2;
  std::string order_id;
  std::vector<line_item> lines;
  uint64_t total_cents = 0;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(order_id), CEREAL_NVP(lines), CEREAL_NVP(total_cents));
  }
  friend bool operator==(const order_placed_v2& a, const order_placed_v2& b) {
    return a.order_id == b.order_id && a.lines == b.lines && a.total_cents == b.total_cents;
  }
};

enum class channel : uint8_t { web, store, phone };

struct order_placed_v3 {
  static constexpr std::string_view event_type = "OrderPlaced";
  static constexpr uint32_t schema_version = 3;
  std::string order_id;
  std::string customer_id;
  std::vector<line_item> lines;
  uint64_t total_cents = 0;
  std::map<std::string, std::string> attributes;
  channel via = channel::web;
  bool gift = false;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(order_id), CEREAL_NVP(customer_id), CEREAL_NVP(lines), CEREAL_NVP(total_cents),
       CEREAL_NVP(attributes), CEREAL_NVP(via), CEREAL_NVP(gift));
  }
  friend bool operator==(const order_placed_v3& a, const order_placed_v3& b) {
    return a.order_id == b.order_id && a.customer_id == b.customer_id && a.lines == b.lines
           && a.total_cents == b.total_cents && a.attributes == b.attributes && a.via == b.via
           && a.gift == b.gift;
  }
};

struct stock_adjusted {
  static constexpr std::string_view event_type = "StockAdjusted";
  int8_t reason = 0;
  uint16_t warehouse = 0;
  int32_t delta = 0;
  uint64_t sequence = 0;
  double weight_kg = 0;
  std::map<std::string, int64_t> per_bin;
  std::vector<std::vector<std::string>> audit_trail;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(reason), CEREAL_NVP(warehouse), CEREAL_NVP(delta), CEREAL_NVP(sequence),
       CEREAL_NVP(weight_kg), CEREAL_NVP(per_bin), CEREAL_NVP(audit_trail));
  }
  // Bitwise on the double: a decoded NaN must still equal itself after a round trip.
  friend bool operator==(const stock_adjusted& a, const stock_adjusted& b) {
    return a.reason == b.reason && a.warehouse == b.warehouse && a.delta == b.delta
           && a.sequence == b.sequence
           && std::memcmp(&a.weight_kg, &b.weight_kg, sizeof(double)) == 0
           && a.per_bin == b.per_bin && a.audit_trail == b.audit_trail;
  }
};

struct customer_renamed {
  static constexpr std::string_view event_type = "CustomerRenamed";
  static constexpr uint32_t schema_version = 2;
  std::string customer_id;
  std::string name;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(customer_id), CEREAL_NVP(name));
  }
  friend bool operator==(const customer_renamed& a, const customer_renamed& b) {
    return a.customer_id == b.customer_id && a.name == b.name;
  }
};

inline order_placed_v2 upcast_order(order_placed_v1 o) {
  order_placed_v2 n;
  n.order_id = std::move(o.order_id);
  for (auto& sku : o.skus)
    n.lines.push_back(line_item{std::move(sku), 1, 0, {}});
  n.total_cents = o.total_cents;
  return n;
}

inline order_placed_v3 upcast_order(order_placed_v2 o) {
  order_placed_v3 n;
  n.order_id = std::move(o.order_id);
  n.customer_id = "unknown";
  n.lines = std::move(o.lines);
  n.total_cents = o.total_cents;
  return n;
}

/// The registry the fuzzer decodes with: typed upcasters for OrderPlaced and a byte-level
/// one for CustomerRenamed that throws on input it does not understand (the registry
/// must turn that into errc::corrupt).
inline event_registry make_registry() {
  event_registry r;
  r.add<order_placed_v3>();
  r.add_upcaster<order_placed_v1, order_placed_v2>(
    "OrderPlaced", 1, [](order_placed_v1 o) { return upcast_order(std::move(o)); });
  r.add_upcaster<order_placed_v2, order_placed_v3>(
    "OrderPlaced", 2, [](order_placed_v2 o) { return upcast_order(std::move(o)); });
  r.add<stock_adjusted>();
  r.add<customer_renamed>();
  // v1 was a bare name string; v2 adds the customer id in front of it.
  r.add_upcaster("CustomerRenamed", 1, [](std::string_view bytes) -> result<std::string> {
    std::string name;
    {
      binary_input_archive ar{bytes};
      ar(name); // throws cereal::Exception on damage
      if (ar.remaining() != 0)
        throw std::runtime_error("trailing bytes after a v1 CustomerRenamed");
    }
    return to_bytes(customer_renamed{"", std::move(name)});
  });
  return r;
}

/// Input layout of fuzz_payload: byte 0 picks the operation, byte 1 the schema version
/// (for the registry operations), the rest is the payload.
enum class payload_op : uint8_t {
  from_bytes_order_v1,
  from_bytes_order_v2,
  from_bytes_order_v3,
  from_bytes_stock,
  from_bytes_renamed,
  decode_order,
  decode_stock,
  decode_renamed,
  to_json_order,
  to_json_stock,
  to_json_renamed,
  count
};

} // namespace annal::fuzz
