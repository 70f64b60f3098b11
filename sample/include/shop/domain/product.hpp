// The product aggregate (stream "product-<sku>"): one catalog entry with a name and a
// price. A sku exists once: creating it again is refused. Pure domain code.
#pragma once

#include <cereal/types/string.hpp>
#include <cereal/types/variant.hpp>

#include <string>
#include <string_view>
#include <variant>

#include "annal/decision.hpp"
#include "shop/domain/limits.hpp"

namespace shop {

// -- events ---------------------------------------------------------------------------------

struct product_created {
  static constexpr std::string_view event_type = "ProductCreated";
  std::string sku;
  std::string name;
  cents price_cents = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(CEREAL_NVP(sku), CEREAL_NVP(name), CEREAL_NVP(price_cents)); }
};

struct product_price_changed {
  static constexpr std::string_view event_type = "ProductPriceChanged";
  cents old_price_cents = 0;
  cents price_cents = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(CEREAL_NVP(old_price_cents), CEREAL_NVP(price_cents)); }
};

// -- commands -------------------------------------------------------------------------------

struct create_product {
  std::string sku;
  std::string name;
  cents price_cents = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(sku, name, price_cents); }
};

struct change_price {
  cents price_cents = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(price_cents); }
};

// -- the aggregate --------------------------------------------------------------------------

struct product_state {
  bool exists = false;
  std::string sku;
  std::string name;
  cents price_cents = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(exists, sku, name, price_cents); }
};

struct product {
  using state = product_state;
  using command = std::variant<create_product, change_price>;
  using event = std::variant<product_created, product_price_changed>;
  static constexpr std::string_view category = "product";

  /// Creates once; changes the price of an existing product (an unchanged price decides no
  /// event). Refuses invalid names and prices out of [0, max_price_cents].
  static annal::decision<event> decide(const state& s, const command& c);
  static void evolve(state& s, const event& e);
};

} // namespace shop
