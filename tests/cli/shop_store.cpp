#include "shop_store.hpp"

#include <stdexcept>

#include "annal/aggregate_traits.hpp"
#include "annal/detail/aggregate_loader.hpp"
#include "shop/domain/inventory.hpp"
#include "shop/domain/order.hpp"
#include "shop/domain/product.hpp"
#include "annal/runtime.hpp"
#include "shop/model.hpp"

namespace annal::test {

namespace {

void must(const status& s) {
  if (!s)
    throw std::runtime_error(s.error().to_string());
}

template <class R>
R must(result<R> r) {
  if (!r)
    throw std::runtime_error(r.error().to_string());
  return std::move(*r);
}

} // namespace

std::unique_ptr<event_store> open_test_journal(const std::filesystem::path& data,
                                               std::size_t initial_map_size) {
  store_options o;
  o.dir = data / "journal";
  o.mode = durability::no_sync;
  o.initial_map_size = initial_map_size;
  return must(event_store::open(o));
}

void append_order(event_store& store, const std::string& id) {
  auto stream = "order-" + id;
  shop::order_placed placed;
  placed.order_id = id;
  placed.customer_id = "c-" + id;
  placed.lines = {shop::order_line{"sku-1", 2, 250}};
  placed.total_cents = 500;
  shop::order_paid paid;
  paid.amount_cents = 500;
  // One append per event, as three commands would: three runs in the stream index.
  auto one = [&](new_event e, stream_version version) {
    std::vector<new_event> evs;
    evs.push_back(std::move(e));
    (void)must(store.append(stream, expected_version::exact(version - 1), std::move(evs)));
  };
  one(shop_event(placed, stream, 1), 1);
  one(shop_event(shop::order_confirmed{}, stream, 2), 2);
  one(shop_event(paid, stream, 3), 3);
}

void write_shop_journal(const std::filesystem::path& data) {
  auto store = open_test_journal(data);
  for (uint64_t i = 1; i <= shop_products; ++i) {
    auto sku = "sku-" + std::to_string(i);
    auto stream = "product-" + sku;
    shop::product_created created{sku, "Product " + std::to_string(i),
                                  static_cast<shop::cents>(100 * i)};
    shop::product_price_changed changed{static_cast<shop::cents>(100 * i),
                                        static_cast<shop::cents>(100 * i + 50)};
    std::vector<new_event> evs;
    evs.push_back(shop_event(created, stream, 1));
    evs.push_back(shop_event(changed, stream, 2));
    (void)must(store->append(stream, expected_version::no_stream(), std::move(evs)));
  }
  std::vector<new_event> restocked;
  restocked.push_back(shop_event(shop::stock_restocked{100}, "inventory-sku-1", 1));
  (void)must(store->append("inventory-sku-1", expected_version::no_stream(), std::move(restocked)));
  for (uint64_t i = 1; i <= shop_orders; ++i)
    append_order(*store, "o-" + std::to_string(i));
  must(store->flush());
}

void snapshot_order(event_store& store, const std::string& id, bool tamper) {
  using traits = aggregate_traits<shop::order>;
  event_registry registry;
  traits::register_events(registry);
  auto stream = traits::stream_id(id);
  auto loaded = must(detail::load_aggregate<shop::order>(store, registry, stream,
                                                         detail::load_bounds{}, 0, false));
  detail::snapshot_payload<shop::order> payload{std::move(loaded.state), {}};
  if (tamper)
    payload.state.total_cents += 1;
  snapshot_record s;
  s.stream_id = stream;
  s.version = loaded.version;
  s.type = traits::snapshot_type();
  s.schema_version = traits::snapshot_schema();
  s.state = must(to_bytes(payload));
  must(store.save_snapshot(std::move(s)));
}

global_position write_shop_folder(const std::filesystem::path& data) {
  using namespace std::chrono_literals;
  runtime_config cfg;
  cfg.data_dir = data;
  cfg.mode = durability::no_sync;
  auto rt = must(runtime::open(cfg));
  must(shop::register_aggregates(*rt));
  must(shop::add_read_models(*rt));
  must(rt->start());
  global_position last = 0;
  auto sent = [&](command_result r) {
    if (!r)
      throw std::runtime_error(r.error().to_string());
    last = std::max(last, r->position);
  };
  for (int i = 1; i <= 3; ++i) {
    auto sku = "sku-" + std::to_string(i);
    sent(rt->send<shop::product>(sku, shop::create_product{sku, "Thing " + sku, 100 * i}).get());
    sent(rt->send<shop::inventory>(sku, shop::restock{10}).get());
  }
  sent(rt->send<shop::product>("sku-2", shop::change_price{250}).get());
  for (int i = 1; i <= 2; ++i) {
    auto id = "o-" + std::to_string(i);
    sent(rt->send<shop::order>(id, shop::place_order{id, "c-1", {shop::order_line{"sku-1", 1, 100}}})
           .get());
  }
  for (const auto& name : shop::read_model_names())
    must(rt->await_projection(name, last, 20s));
  must(rt->stop());
  return last;
}

} // namespace annal::test
