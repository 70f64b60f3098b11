// The command line of shop-node.
#include <catch2/catch.hpp>

#include "shop/node/options.hpp"

using namespace shop::node;
using namespace std::chrono_literals;

TEST_CASE("durations take ms, s, m and h", "[shop][options]") {
  CHECK(parse_duration("500ms") == 500ms);
  CHECK(parse_duration("900s") == 900s);
  CHECK(parse_duration("15m") == 15min);
  CHECK(parse_duration("1h") == 1h);
  CHECK(parse_duration("30") == 30s);
  for (const char* bad : {"", "ms", "0s", "-5s", "5 s", "5sec", "1.5s", "9999999999999h", "31d"})
    CHECK_FALSE(parse_duration(bad));
}

TEST_CASE("endpoints are HOST:PORT", "[shop][options]") {
  CHECK(parse_endpoint("127.0.0.1:8080") == std::make_pair(std::string{"127.0.0.1"}, uint16_t{8080}));
  CHECK(parse_endpoint("[::1]:0") == std::make_pair(std::string{"::1"}, uint16_t{0}));
  for (const char* bad : {"", "8080", ":8080", "host:", "host:65536", "host:x1"})
    CHECK_FALSE(parse_endpoint(bad));
}

TEST_CASE("the program's options, with CAF's passed through", "[shop][options]") {
  const char* argv[] = {"shop-node", "--data", "/tmp/d", "--http", "0.0.0.0:9000",
                        "--payment-timeout", "500ms", "--token", "t0k",
                        "--scheduler.max-threads=2", "--annal.durability=no_sync"};
  auto r = parse_options(static_cast<int>(std::size(argv)), argv);
  REQUIRE(std::holds_alternative<node_options>(r));
  const auto& o = std::get<node_options>(r);
  CHECK(o.data_dir == "/tmp/d");
  CHECK(o.host == "0.0.0.0");
  CHECK(o.port == 9000);
  CHECK(o.payment_timeout == 500ms);
  CHECK(o.token == "t0k");
  CHECK(o.caf_args == std::vector<std::string>{"--scheduler.max-threads=2", "--annal.durability=no_sync"});
  CHECK(o.max_live_orders == 100000);
  const char* few_live[] = {"shop-node", "--max-live-orders", "12"};
  CHECK(std::get<node_options>(parse_options(3, few_live)).max_live_orders == 12);
  const char* none_live[] = {"shop-node", "--max-live-orders", "0"};
  CHECK(std::get<int>(parse_options(3, none_live)) != 0);

  const char* defaults[] = {"shop-node"};
  auto d = std::get<node_options>(parse_options(1, defaults));
  CHECK(d.data_dir == "./shop-data");
  CHECK(d.port == 8080);
  CHECK(d.payment_timeout == 15min);
  CHECK(d.token.empty());

  const char* bad[] = {"shop-node", "--payment-timeout", "soon"};
  CHECK(std::get<int>(parse_options(3, bad)) == 2);
}

TEST_CASE("a CAF config file is recorded from --config-file, and the defaults serve 127.0.0.1:8080",
          "[shop][options]") {
  const char* argv[] = {"shop-node", "--config-file", "x.conf", "--scheduler.max-threads=2"};
  auto r = parse_options(static_cast<int>(std::size(argv)), argv);
  REQUIRE(std::holds_alternative<node_options>(r));
  const auto& o = std::get<node_options>(r);
  CHECK(o.caf_config_file == "x.conf");
  // The file goes to the runtime's config, not among the options passed through to CAF.
  CHECK(o.caf_args == std::vector<std::string>{"--scheduler.max-threads=2"});

  const char* equals[] = {"shop-node", "--config-file=other.conf"};
  auto e = parse_options(static_cast<int>(std::size(equals)), equals);
  REQUIRE(std::holds_alternative<node_options>(e));
  CHECK(std::get<node_options>(e).caf_config_file == "other.conf");
  CHECK(std::get<node_options>(e).caf_args.empty());

  const char* missing_value[] = {"shop-node", "--config-file"};
  auto m = parse_options(static_cast<int>(std::size(missing_value)), missing_value);
  REQUIRE(std::holds_alternative<int>(m));
  CHECK(std::get<int>(m) != 0);

  const char* defaults[] = {"shop-node"};
  auto d = parse_options(1, defaults);
  REQUIRE(std::holds_alternative<node_options>(d));
  const auto& def = std::get<node_options>(d);
  CHECK(def.host == "127.0.0.1");
  CHECK(def.port == 8080);
  CHECK(def.data_dir == std::filesystem::path{"./shop-data"});
  CHECK(def.payment_timeout == 15min);
  CHECK(def.caf_config_file.empty());
  CHECK(def.caf_args.empty());
}
