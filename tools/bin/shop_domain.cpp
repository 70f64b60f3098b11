// The sample shop as the shipped binary's domain: `annal` renders and verifies its events,
// checks its snapshots by replay and rebuilds its read models offline.
#include "shipped_domain.hpp"

#include "shop/domain/inventory.hpp"
#include "shop/domain/order.hpp"
#include "shop/domain/product.hpp"
#include "shop/model.hpp"

namespace annal::cli {

domain shipped_domain() {
  domain d;
  d.add_aggregate<shop::product>();
  d.add_aggregate<shop::inventory>();
  d.add_aggregate<shop::order>();
  // The read models only: the fulfilment process managers would send commands.
  d.add_read_models(shop::read_model_names(), [](runtime& rt) -> status {
    if (auto ok = shop::register_aggregates(rt); !ok)
      return ok;
    return shop::add_read_models(rt);
  });
  return d;
}

} // namespace annal::cli
