// The sample shop as this build's domain: `annal` renders and verifies its events, checks
// its snapshots by replay and rebuilds its read models offline.
#include "domain_catalog.hpp"

#include "shop/domain/inventory.hpp"
#include "shop/domain/order.hpp"
#include "shop/domain/product.hpp"
#include "shop/model.hpp"

namespace annal::cli {

domain_catalog build_catalog() {
  domain_catalog c;
  c.add_aggregate<shop::product>();
  c.add_aggregate<shop::inventory>();
  c.add_aggregate<shop::order>();
  // The read models only: the fulfilment process managers would send commands.
  c.add_projections(shop::read_model_names(), [](runtime& rt) -> status {
    if (auto ok = shop::register_aggregates(rt); !ok)
      return ok;
    return shop::add_read_models(rt);
  });
  return c;
}

} // namespace annal::cli
