// The soak's client of the node: the shop's HTTP client (sample/client) on 127.0.0.1, every
// request bounded by the soak's request timeout so that a silent node is seen as a hang.
#pragma once

#include <shop/client/shop_client.hpp>

#include <chrono>

namespace annal::soak {

using shop::client::reply;
using shop::client::shop_client;

/// A client of the node listening on 127.0.0.1:`port`; each read and write gives up after
/// `timeout` (the reply's status is then 0).
inline shop_client node_client(int port, std::chrono::seconds timeout) {
  return shop_client{"127.0.0.1", port, shop::client::client_options{{}, timeout}};
}

} // namespace annal::soak
