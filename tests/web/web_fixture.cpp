#include "web_fixture.hpp"

#include <stdexcept>

#include "shop/domain/product.hpp"

namespace shop::test {

namespace {
template <class T>
T need(annal::result<T> r, const char* what) {
  if (!r)
    throw std::runtime_error(std::string{what} + ": " + r.error().to_string());
  return std::move(*r);
}
void need(const annal::status& s, const char* what) {
  if (!s)
    throw std::runtime_error(std::string{what} + ": " + s.error().to_string());
}
} // namespace

web_fixture::web_fixture(shop::node::live_feed::options feed_options) {
  annal::runtime_config cfg;
  cfg.data_dir = dir / "data";
  cfg.caf_args = {"--scheduler.max-threads=2"};
  timer.install(cfg.writer);
  rt = need(annal::runtime::open(cfg), "open");
  need(shop::register_aggregates(*rt), "aggregates");
  need(shop::add_read_models(*rt), "read models");
  tables = need(shop::open_read_model_tables(rt->read_models()), "tables");
  feed = std::make_unique<shop::node::live_feed>(*rt, feed_options);
  need(feed->attach(), "live feed");
  need(rt->start(), "start");
  sampler = std::make_unique<shop::node::throughput_sampler>(*rt, metrics, timer);
}

web_fixture::~web_fixture() {
  sampler.reset();
  (void)rt->stop();
}

annal::global_position web_fixture::create_product(const std::string& sku) {
  auto r = rt->send<shop::product>(sku, shop::create_product{sku, "name of " + sku, 100}).get();
  if (!r)
    throw std::runtime_error("create_product: " + r.error().to_string());
  return r->position;
}

} // namespace shop::test
