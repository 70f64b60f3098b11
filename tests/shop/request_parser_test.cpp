// The HTTP contract's pure half: routing and validation of requests (parse_request).
#include <catch2/catch.hpp>

#include "shop/http/request_parser.hpp"

using namespace shop::http;

namespace {

using pairs = std::vector<std::pair<std::string, std::string>>;

struct req {
  req(std::string m, std::string p, std::string b = {}, pairs q = {}, pairs h = {})
    : method(std::move(m)), path(std::move(p)), body(std::move(b)), query(std::move(q)),
      headers(std::move(h)) {}
  std::string method;
  std::string path;
  std::string body;
  pairs query;
  pairs headers;

  parse_result parse() const {
    request_view v;
    v.method = method;
    v.path = path;
    v.body = body;
    for (const auto& [k, x] : query)
      v.query.emplace_back(k, x);
    for (const auto& [k, x] : headers)
      v.headers.emplace_back(k, x);
    return parse_request(v);
  }
};

req post(std::string path, std::string body) {
  return req{"POST", std::move(path), std::move(body), {}, {{"Content-Type", "application/json"}}};
}

// The error of a refused request (status 0 when it was accepted).
api_error error_of(const parse_result& r) {
  if (auto* e = std::get_if<api_error>(&r))
    return *e;
  return api_error{0, "", ""};
}

template <class T>
const T& request_of(const parse_result& r) {
  REQUIRE(std::holds_alternative<api_request>(r));
  const auto& a = std::get<api_request>(r);
  REQUIRE(std::holds_alternative<T>(a));
  return std::get<T>(a);
}

} // namespace

TEST_CASE("every route of the contract is recognised", "[shop][http]") {
  CHECK(request_of<create_product_request>(post("/products", R"({"sku":"a","name":"A","price_cents":5})").parse()).price_cents == 5);
  CHECK(request_of<change_price_request>(post("/products/a/price", R"({"price_cents":7})").parse()).sku == "a");
  CHECK(request_of<restock_request>(post("/inventory/a/restock", R"({"quantity":3})").parse()).quantity == 3);
  CHECK(request_of<pay_order_request>(post("/orders/o1/pay", R"({"amount_cents":0})").parse()).order_id == "o1");
  CHECK(request_of<ship_order_request>(post("/orders/o1/ship", "{}").parse()).order_id == "o1");
  CHECK(request_of<ship_order_request>(req{"POST", "/orders/o1/ship", "", {}, {}}.parse()).order_id == "o1");
  CHECK(request_of<cancel_order_request>(post("/orders/o1/cancel", "").parse()).reason == "cancelled by the customer");
  CHECK(request_of<cancel_order_request>(post("/orders/o1/cancel", R"({"reason":"late"})").parse()).reason == "late");
  CHECK(request_of<get_product_request>(req{"GET", "/products/a"}.parse()).sku == "a");
  CHECK(request_of<get_inventory_request>(req{"GET", "/inventory/a"}.parse()).sku == "a");
  CHECK(request_of<get_order_request>(req{"GET", "/orders/o1"}.parse()).order_id == "o1");
  CHECK(request_of<get_customer_orders_request>(req{"GET", "/customers/c1/orders"}.parse()).customer_id == "c1");
  request_of<get_sales_request>(req{"GET", "/reports/sales"}.parse());
  CHECK(request_of<get_stream_events_request>(req{"GET", "/streams/order-o1/events"}.parse()).stream == "order-o1");
  request_of<get_events_request>(req{"GET", "/events"}.parse());
  request_of<get_projections_request>(req{"GET", "/projections"}.parse());
  request_of<get_health_request>(req{"GET", "/health"}.parse());
  request_of<get_metrics_request>(req{"GET", "/metrics"}.parse());
}

TEST_CASE("unknown routes and methods are 404", "[shop][http]") {
  for (auto [m, p] : std::vector<std::pair<std::string, std::string>>{
         {"GET", "/"}, {"GET", "/nope"}, {"GET", "/products"}, {"GET", "/products/a/b/c"},
         {"GET", "/products//price"}, {"DELETE", "/products/a"}, {"POST", "/health"},
         {"GET", "/orders/o1/pay"}, {"PUT", "/orders"}, {"GET", "products/a"}, {"GET", ""},
         {"GET", "/products/a/"}}) {
    CAPTURE(m, p);
    auto e = error_of(req{m, p}.parse());
    CHECK(e.status == 404);
    CHECK(e.code == "not_found");
  }
}

TEST_CASE("order lines are validated and merged", "[shop][http]") {
  auto r = post("/orders", R"({"customer_id":"c1","lines":[{"sku":"a","quantity":1},{"sku":"b","quantity":2},{"sku":"a","quantity":3}]})").parse(); // kept: o refers into it
  const auto& o = request_of<place_order_request>(r);
  CHECK_FALSE(o.order_id);
  REQUIRE(o.lines.size() == 2);
  CHECK(o.lines[0].sku == "a");
  CHECK(o.lines[0].quantity == 4);
  CHECK(o.lines[1].quantity == 2);
  CHECK(*request_of<place_order_request>(post("/orders", R"({"order_id":"x1","customer_id":"c","lines":[{"sku":"a","quantity":1}]})").parse()).order_id == "x1");
}

TEST_CASE("malformed bodies are 400 with a reason", "[shop][http]") {
  const char* bodies[] = {
    R"({"sku":"a","name":"A"})",                        // missing price
    R"({"sku":"a","name":"A","price_cents":1.5})",      // non-integer money
    R"({"sku":"a","name":"A","price_cents":1e2})",      // a float, even if whole
    R"({"sku":"a","name":"A","price_cents":"5"})",      // a string
    R"({"sku":"a","name":"A","price_cents":true})",     // a boolean
    R"({"sku":"a","name":"A","price_cents":-1})",       // negative
    R"({"sku":"a","name":"A","price_cents":99999999999999999999})", // beyond int64
    R"({"sku":"a b","name":"A","price_cents":1})",      // bad sku
    R"({"sku":"","name":"A","price_cents":1})",         // empty sku
    R"({"sku":5,"name":"A","price_cents":1})",          // mistyped sku
    R"({"sku":"a","name":"","price_cents":1})",         // empty name
    R"({"sku":"a","name":"A","price_cents":1)",         // truncated JSON
    R"([1,2,3])",                                       // not an object
    "\"text\"",                                          // not an object
    "{\"sku\":\"a\xff\",\"name\":\"A\",\"price_cents\":1}", // invalid UTF-8
  };
  for (const char* b : bodies) {
    CAPTURE(b);
    auto e = error_of(post("/products", b).parse());
    CHECK(e.status == 400);
    CHECK(e.code == "bad_request");
    CHECK_FALSE(e.message.empty());
  }
  const char* orders[] = {
    R"({"lines":[{"sku":"a","quantity":1}]})",                   // no customer
    R"({"customer_id":"c"})",                                    // no lines
    R"({"customer_id":"c","lines":[]})",                         // empty lines
    R"({"customer_id":"c","lines":{}})",                         // lines not an array
    R"({"customer_id":"c","lines":[{"sku":"a","quantity":0}]})", // zero quantity
    R"({"customer_id":"c","lines":[{"sku":"a","quantity":-2}]})",// negative quantity
    R"({"customer_id":"c","lines":[{"sku":"a"}]})",              // missing quantity
    R"({"customer_id":"c","lines":[7]})",                        // line not an object
    R"({"customer_id":"c","lines":[{"sku":"a","quantity":600000},{"sku":"a","quantity":600000}]})",
    R"({"order_id":"x/y","customer_id":"c","lines":[{"sku":"a","quantity":1}]})",
  };
  for (const char* b : orders) {
    CAPTURE(b);
    CHECK(error_of(post("/orders", b).parse()).status == 400);
  }
  CHECK(error_of(post("/inventory/a/restock", R"({"quantity":0})").parse()).status == 400);
  CHECK(error_of(post("/orders/o1/pay", R"({"amount_cents":"10"})").parse()).status == 400);
  CHECK(error_of(post("/orders/o1/pay", R"({})").parse()).status == 400);
  CHECK(error_of(post("/products/bad!sku/price", R"({"price_cents":1})").parse()).status == 400);
}

TEST_CASE("bodies must be JSON and at most 1 MiB", "[shop][http]") {
  auto r = post("/products", R"({"sku":"a","name":"A","price_cents":5})");
  r.headers = {{"content-type", "text/plain"}};
  CHECK(error_of(r.parse()).status == 415);
  r.headers = {};
  CHECK(error_of(r.parse()).code == "unsupported_media_type");
  r.headers = {{"Content-Type", "Application/JSON; charset=utf-8"}};
  CHECK(error_of(r.parse()).status == 0);
  auto big = post("/products", std::string(max_body_bytes + 1, ' '));
  CHECK(error_of(big.parse()).status == 413);
  CHECK(error_of(big.parse()).code == "payload_too_large");
}

TEST_CASE("command headers: Idempotency-Key and If-Match", "[shop][http]") {
  auto r = post("/orders/o1/ship", "{}");
  r.headers.emplace_back("idempotency-key", "k-1");
  r.headers.emplace_back("If-Match", "\"3\"");
  auto parsed = r.parse();
  const auto& s = request_of<ship_order_request>(parsed);
  CHECK(s.meta.idempotency_key == "k-1");
  CHECK(s.meta.if_match == 3u);
  for (const char* bad : {"", "x", "-1", "1.0", "99999999999999999999999"}) {
    auto b = post("/orders/o1/ship", "{}");
    b.headers.emplace_back("If-Match", bad);
    CAPTURE(bad);
    CHECK(error_of(b.parse()).status == 400);
  }
  auto k = post("/orders/o1/ship", "{}");
  k.headers.emplace_back("Idempotency-Key", "has space");
  CHECK(error_of(k.parse()).status == 400);
  k.headers.back().second = std::string(129, 'k');
  CHECK(error_of(k.parse()).status == 400);
}

TEST_CASE("query parameters are validated", "[shop][http]") {
  CHECK(request_of<get_product_request>(req{"GET", "/products/a", "", {{"min_position", "42"}}}.parse()).query.min_position == 42);
  CHECK(*request_of<get_order_request>(req{"GET", "/orders/o", "", {{"at_version", "2"}}}.parse()).at_version == 2);
  auto ev = request_of<get_stream_events_request>(req{"GET", "/streams/order-1/events", "", {{"from", "3"}, {"limit", "7"}}}.parse());
  CHECK(ev.from == 3);
  CHECK(ev.limit == 7);
  CHECK(request_of<get_events_request>(req{"GET", "/events", "", {{"after", "9"}}}.parse()).after == 9);
  CHECK(request_of<get_events_request>(req{"GET", "/events"}.parse()).limit == default_event_page);
  for (auto [path, name, value] : std::vector<std::tuple<std::string, std::string, std::string>>{
         {"/products/a", "min_position", "x"}, {"/products/a", "min_position", "-1"},
         {"/orders/o", "at_version", "0"}, {"/orders/o", "at_version", "two"},
         {"/events", "limit", "0"}, {"/events", "limit", "1001"}, {"/events", "after", "1e3"},
         {"/streams/s/events", "from", ""}}) {
    CAPTURE(path, name, value);
    CHECK(error_of(req{"GET", path, "", {{name, value}}}.parse()).status == 400);
  }
  CHECK(error_of(req{"GET", "/products/a b"}.parse()).status == 400);
}
