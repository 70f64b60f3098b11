// A started shop runtime in a temporary folder, with the operations page's live feed
// attached and its routes built, for the page's C++ tests.
#pragma once

#include <memory>
#include <string>

#include "annal/runtime.hpp"
#include "shop/model.hpp"
#include "shop/node/live_feed.hpp"
#include "shop/node/metrics.hpp"
#include "shop/node/throughput.hpp"
#include "temp_dir.hpp"

namespace shop::test {

struct web_fixture {
  explicit web_fixture(shop::node::live_feed::options feed_options = {});
  ~web_fixture();

  /// Creates product `sku` (one event) and returns its global position.
  annal::global_position create_product(const std::string& sku);

  annal::test::temp_dir dir;
  shop::node::commit_timer timer;
  std::unique_ptr<annal::runtime> rt;
  std::unique_ptr<shop::node::live_feed> feed;
  shop::read_model_tables tables;
  shop::node::node_metrics metrics;
  std::unique_ptr<shop::node::throughput_sampler> sampler;
};

} // namespace shop::test
