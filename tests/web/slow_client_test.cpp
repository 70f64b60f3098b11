// The live stream never holds more than one piece per connection: a client that stops
// reading is dropped at the write deadline, while commands keep being answered.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "shop/domain/product.hpp"
#include "shop/node/http_server.hpp"
#include "shop/node/live_stream.hpp"
#include "web_fixture.hpp"

namespace {

// A loopback client with a tiny receive buffer that sends one request and never reads.
int connect_stalled(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
  return fd;
}

} // namespace

TEST_CASE("a live-stream client that stops reading is dropped at the write deadline", "[web][live]") {
  shop::test::web_fixture f;
  shop::node::shop_service service{*f.rt, f.tables, f.metrics};
  shop::node::http_server_options o;
  o.io_threads = 2;
  o.write_timeout = std::chrono::milliseconds(500);
  shop::node::http_server server{service, f.metrics, o};
  server.add_stream_route(shop::node::live_events_route(*f.feed));
  auto port = server.bind("127.0.0.1", 0);
  REQUIRE(port);
  std::thread loop{[&] { server.run(); }};

  int fd = connect_stalled(*port, "GET /events/live?payload=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server.connections() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(server.connections() == 1);

  // Far more than the socket buffers hold: 20,000 events of ~400 bytes, pipelined.
  std::vector<std::future<annal::command_result>> sent;
  for (int i = 0; i < 20000; ++i) {
    auto sku = "s" + std::to_string(i);
    sent.push_back(f.rt->send<shop::product>(sku, shop::create_product{sku, std::string(200, 'n'), 100}));
  }
  for (auto& s : sent)
    REQUIRE(s.get());

  // The stalled connection is dropped (its one pending write missed the deadline).
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (server.connections() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(server.connections() == 0);
  ::close(fd);
  server.stop();
  loop.join();
}
