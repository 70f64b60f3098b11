// A running shop-node on a fresh data folder, and clients for it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "node_process.hpp"
#include "shop_client.hpp"
#include "temp_dir.hpp"

namespace shop::test {

struct shop_fixture {
  annal::test::temp_dir dir;
  std::unique_ptr<node_process> node;

  explicit shop_fixture(std::vector<std::string> args = {}) { start(std::move(args)); }

  /// (Re)starts the node on the same data folder.
  void start(std::vector<std::string> args = {}) {
    node = std::make_unique<node_process>(dir / "data", std::move(args));
  }

  shop_client client(std::string token = {}) const {
    return shop_client{node->host(), node->port(), std::move(token)};
  }
};

} // namespace shop::test
