// The HTTP front under slow, idle and flooding clients, and the protocol points of the
// contract that the server (not the parser) decides: HEAD, an empty Idempotency-Key, a
// POST without a body, the connection cap.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "shop_fixture.hpp"

using namespace shop::test;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

// A connected socket to the node (closed by the destructor); -1 when it failed.
struct raw_socket {
  int fd = -1;
  explicit raw_socket(int port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ~raw_socket() {
    if (fd >= 0)
      ::close(fd);
  }
  raw_socket(raw_socket&& o) noexcept : fd(o.fd) { o.fd = -1; }
  raw_socket(const raw_socket&) = delete;

  bool send(const std::string& bytes) const {
    return ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  /// Reads until the peer closes or `quiet` passes without data (at most `limit` overall).
  std::string read_all(milliseconds quiet = milliseconds(300), milliseconds limit = milliseconds(5000)) const {
    std::string out;
    char buf[4096];
    auto deadline = steady_clock::now() + limit;
    while (steady_clock::now() < deadline) {
      timeval tv{0, static_cast<suseconds_t>(std::min<long>(quiet.count(), 999) * 1000)};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0)
        break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  /// True once the peer closed the connection (recv returns 0 or an error), waiting up to
  /// `timeout`.
  bool closed_within(milliseconds timeout) const {
    auto deadline = steady_clock::now() + timeout;
    char buf[256];
    while (steady_clock::now() < deadline) {
      timeval tv{0, 100000};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
        return true;
    }
    return false;
  }
};

} // namespace

TEST_CASE("idle connections, slow-loris clients and waiting queries do not delay /health",
          "[shop][http]") {
  shop_fixture f;
  auto c = f.client();
  REQUIRE(c.get("/health").status == 200);
  // Far more connections than any thread pool would have, doing nothing.
  std::vector<raw_socket> idle;
  for (int i = 0; i < 600; ++i) {
    idle.emplace_back(f.node->port());
    REQUIRE(idle.back().fd >= 0);
  }
  // Clients that started a request and send its headers a byte at a time.
  std::vector<raw_socket> slow;
  for (int i = 0; i < 32; ++i) {
    slow.emplace_back(f.node->port());
    REQUIRE(slow.back().fd >= 0);
    REQUIRE(slow.back().send("GET /health HTTP/1.1\r\nHost: x\r\n"));
  }
  // Queries waiting for a position that never comes (up to 5 s each).
  std::vector<std::thread> waiting;
  std::atomic<int> lagging{0};
  for (int i = 0; i < 16; ++i)
    waiting.emplace_back([&] {
      auto w = f.client();
      if (w.get("/products/x?min_position=1000000000").error() == "projection_lagging")
        ++lagging;
    });
  std::this_thread::sleep_for(milliseconds(200));
  std::vector<milliseconds> took;
  for (int i = 0; i < 20; ++i) {
    for (auto& s : slow)
      (void)s.send("X");
    auto fresh = f.client(); // a new connection each time: accepting must not be held up
    auto t0 = steady_clock::now();
    auto r = fresh.get("/health");
    took.push_back(since(t0));
    CHECK(r.status == 200);
  }
  for (auto& t : waiting)
    t.join();
  CHECK(lagging == 16); // they were answered in time, by the deadline
  std::sort(took.begin(), took.end());
  INFO("slowest /health: " << took.back().count() << " ms");
  // Generous for a loaded test machine; a thread-per-connection server takes seconds.
  CHECK(took[took.size() / 2] < milliseconds(200));
  CHECK(took.back() < milliseconds(1000));
  CHECK(f.node->running());
}

TEST_CASE("a client too slow to send its headers is dropped at the deadline", "[shop][http]") {
  shop_fixture f{{"--http-header-timeout", "500ms", "--http-idle-timeout", "2s"}};
  raw_socket loris{f.node->port()};
  REQUIRE(loris.send("GET /health HTTP/1.1\r\n"));
  auto t0 = steady_clock::now();
  bool dropped = false;
  // A byte every 100 ms: it is never idle, it never finishes.
  while (since(t0) < milliseconds(5000) && !dropped) {
    (void)loris.send("X");
    dropped = loris.closed_within(milliseconds(100));
  }
  CHECK(dropped);
  CHECK(since(t0) >= milliseconds(400));
  // An idle connection is closed at the idle deadline.
  raw_socket idle{f.node->port()};
  CHECK(idle.closed_within(milliseconds(5000)));
  CHECK(f.client().get("/health").status == 200);
}

TEST_CASE("HEAD answers like GET without a body", "[shop][http]") {
  shop_fixture f;
  auto c = f.client();
  REQUIRE(c.create_product("pen", "Pen", 250).status == 201);
  auto get = c.get("/products/pen?min_position=1");
  REQUIRE(get.status == 200);
  raw_socket s{f.node->port()};
  REQUIRE(s.send("HEAD /products/pen?min_position=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto answer = s.read_all();
  INFO(answer);
  CHECK(answer.rfind("HTTP/1.1 200 ", 0) == 0);
  auto end = answer.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  CHECK(answer.size() == end + 4); // headers only
  CHECK(answer.find("Content-Length: " + std::to_string(get.text.size())) != std::string::npos);
  // HEAD of an unknown product: the GET status, still without a body.
  auto missing = c.send("HEAD", "/products/nib");
  CHECK(missing.status == 404);
  CHECK(missing.text.empty());
  CHECK(c.get("/health").status == 200); // the connection goes on
}

TEST_CASE("an empty Idempotency-Key is refused", "[shop][http]") {
  shop_fixture f;
  auto c = f.client();
  REQUIRE(c.create_product("pen", "Pen", 250).status == 201);
  raw_socket s{f.node->port()};
  std::string body = R"({"customer_id":"ann","lines":[{"sku":"pen","quantity":1}]})";
  REQUIRE(s.send("POST /orders HTTP/1.1\r\nHost: x\r\nIdempotency-Key:\r\nContent-Type: application/json\r\n"
                 "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body));
  auto answer = s.read_all();
  INFO(answer);
  CHECK(answer.rfind("HTTP/1.1 400 ", 0) == 0);
  CHECK(answer.find("\"bad_request\"") != std::string::npos);
  CHECK(answer.find("Idempotency-Key") != std::string::npos);
  // Nothing was written: the product's creation is the newest event.
  CHECK(c.get("/health").json["position"] == 1);
}

TEST_CASE("a POST without a body and without Content-Length has an empty body", "[shop][http]") {
  shop_fixture f;
  auto c = f.client();
  REQUIRE(c.create_product("pen", "Pen", 250).status == 201);
  REQUIRE(c.restock("pen", 5).status == 200);
  REQUIRE(c.place_order("ann", {{"pen", 1}}, "o-1").status == 201);
  raw_socket s{f.node->port()};
  REQUIRE(s.send("POST /orders/o-1/cancel HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto answer = s.read_all();
  INFO(answer);
  CHECK(answer.rfind("HTTP/1.1 200 ", 0) == 0);
  CHECK(answer.find("\"order_id\":\"o-1\"") != std::string::npos);
  // Two such requests back to back on one connection are two requests.
  raw_socket twice{f.node->port()};
  REQUIRE(twice.send("POST /orders/o-1/cancel HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto both = twice.read_all();
  INFO(both);
  CHECK(both.find("HTTP/1.1 409 ") != std::string::npos); // cancelled already
  CHECK(both.find("HTTP/1.1 200 ") != std::string::npos);
}

TEST_CASE("connections over the cap are refused with 503 and closed", "[shop][http]") {
  shop_fixture f{{"--max-connections", "8"}};
  std::vector<shop_client> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(f.client());
    REQUIRE(held.back().get("/health").status == 200);
  }
  raw_socket extra{f.node->port()};
  REQUIRE(extra.fd >= 0);
  REQUIRE(extra.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto answer = extra.read_all(milliseconds(2000));
  INFO(answer);
  CHECK(answer.rfind("HTTP/1.1 503 ", 0) == 0);
  CHECK(answer.find("Retry-After: 1") != std::string::npos);
  CHECK(answer.find("Connection: close") != std::string::npos);
  CHECK(answer.find("\"error\":\"unavailable\"") != std::string::npos);
  CHECK(extra.closed_within(milliseconds(3000)));
  // The held connections still work; once one closes, a new one is served.
  CHECK(held.front().get("/health").status == 200);
  held.pop_back();
  CHECK(eventually([&] { return f.client().get("/health").status == 200; }, milliseconds(5000)));
}
