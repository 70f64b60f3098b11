// The shop's HTTP client (sample/client, library shop_client) under the tests' namespace.
#pragma once

#include <shop/client/shop_client.hpp>

namespace shop::test {
using client::client_options;
using client::headers;
using client::reply;
using client::shop_client;
} // namespace shop::test
