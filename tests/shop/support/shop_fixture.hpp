// A running shop-node on a fresh data folder, and clients for it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "node_process.hpp"
#include "shop_client.hpp"
#include "temp_dir.hpp"

namespace shop::test {

/// Milliseconds since `t` (steady clock): how long a request or a wait took.
inline std::chrono::milliseconds since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t);
}

struct shop_fixture {
  annal::test::temp_dir dir;
  std::unique_ptr<node_process> node;

  explicit shop_fixture(std::vector<std::string> args = {}) { start(std::move(args)); }

  /// (Re)starts the node on the same data folder.
  void start(std::vector<std::string> args = {}) {
    node = std::make_unique<node_process>(dir / "data", std::move(args));
  }

  shop_client client(std::string token = {}) const {
    return shop_client{node->host(), node->port(), client_options{std::move(token)}};
  }
};

} // namespace shop::test
