#include "shop/domain/product.hpp"

namespace shop {

namespace {

using decision = annal::decision<product::event>;

// Why a price is refused, or empty.
std::string price_problem(cents price) {
  if (price < 0)
    return "price_cents must not be negative";
  if (price > max_price_cents)
    return "price_cents must be at most " + std::to_string(max_price_cents);
  return {};
}

struct decider {
  const product_state& s;

  decision operator()(const create_product& c) const {
    if (s.exists)
      return annal::reject("product '" + s.sku + "' exists already");
    if (!valid_id(c.sku))
      return annal::reject("sku must be 1-64 characters of [A-Za-z0-9._-]");
    if (c.name.empty() || c.name.size() > max_name_length)
      return annal::reject("name must be 1-" + std::to_string(max_name_length) + " bytes");
    if (auto why = price_problem(c.price_cents); !why.empty())
      return annal::reject(why);
    return product_created{c.sku, c.name, c.price_cents};
  }

  decision operator()(const change_price& c) const {
    if (!s.exists)
      return annal::reject("no such product");
    if (auto why = price_problem(c.price_cents); !why.empty())
      return annal::reject(why);
    if (c.price_cents == s.price_cents)
      return {};
    return product_price_changed{s.price_cents, c.price_cents};
  }
};

struct evolver {
  product_state& s;
  void operator()(const product_created& e) const {
    s.exists = true;
    s.sku = e.sku;
    s.name = e.name;
    s.price_cents = e.price_cents;
  }
  void operator()(const product_price_changed& e) const { s.price_cents = e.price_cents; }
};

} // namespace

annal::decision<product::event> product::decide(const state& s, const command& c) {
  return std::visit(decider{s}, c);
}

void product::evolve(state& s, const event& e) {
  std::visit(evolver{s}, e);
}

} // namespace shop
