#include "shop/domain/inventory.hpp"
#include "shop/domain/order.hpp"
#include "shop/domain/product.hpp"
#include "shop/model.hpp"

#include "annal/aggregate_host.hpp"

namespace shop {

annal::status register_aggregates(annal::runtime& rt, std::size_t max_live_orders) {
  if (auto ok = rt.register_aggregate<product>(); !ok)
    return ok;
  // A hot sku takes a reserve, a release or a ship per order: remember more command ids
  // than the default, so that repeated fulfilment steps are recognised by id as well as
  // by the domain rules.
  annal::aggregate_options stock;
  stock.recent_command_ids = 1024;
  if (auto ok = rt.register_aggregate<inventory>(stock); !ok)
    return ok;
  annal::aggregate_options orders;
  orders.max_live = max_live_orders;
  return rt.register_aggregate<order>(orders);
}

} // namespace shop
