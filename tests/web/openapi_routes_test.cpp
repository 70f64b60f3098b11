// The OpenAPI document built into the node describes exactly the routes the node answers:
// the API parser's route table (http::api_routes) and the page's (node::page_routes), and
// each route of those tables is really claimed by its handler while near misses are not.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <regex>
#include <set>

#include "shop/http/request_parser.hpp"
#include "shop/node/live_stream.hpp"
#include "shop/node/page_routes.hpp"
#include "web_fixture.hpp"

using nlohmann::json;
using route = std::pair<std::string, std::string>; // method, path with "{}" for parameters

namespace {

std::string normalized(const std::string& path) {
  return std::regex_replace(path, std::regex{"\\{[^}]*\\}"}, "{}");
}

std::set<route> documented_routes() {
  auto doc = json::parse(shop::node::openapi_document());
  std::set<route> out;
  for (const auto& [path, item] : doc.at("paths").items())
    for (const auto& [method, op] : item.items()) {
      static const std::set<std::string> methods{"get", "put", "post", "delete", "options", "head", "patch", "trace"};
      if (!methods.count(method))
        continue;
      std::string upper;
      for (char c : method)
        upper += static_cast<char>(c - 'a' + 'A');
      out.emplace(upper, normalized(path));
    }
  return out;
}

std::set<route> answered_routes() {
  std::set<route> out;
  for (const auto& r : shop::http::api_routes())
    out.emplace(r.method, r.path);
  for (const auto& r : shop::node::page_routes())
    out.emplace(r.method, normalized(r.path));
  return out;
}

// Who answers `method path` in the node: "page", "stream", "data", "api" or "" (404).
struct router {
  shop::test::web_fixture f;
  boost::asio::io_context io;
  shop::node::extra_route files = shop::node::page_files_route(f.dir / "no-web-root");
  shop::node::extra_route data = shop::node::page_data_route(*f.rt, f.tables, *f.sampler);
  shop::node::stream_route live = shop::node::live_events_route(*f.feed);

  std::string who(const std::string& method, const std::string& path) {
    shop::http::request_view v;
    v.method = method;
    v.path = path;
    auto ignore = [](shop::node::http_response) {};
    if (files(v, ignore))
      return "page";
    if (live(v, io.get_executor()))
      return "stream";
    if (data(v, ignore))
      return "data";
    auto parsed = shop::http::parse_request(v);
    if (auto* e = std::get_if<shop::http::api_error>(&parsed); e && e->message.rfind("no route", 0) == 0)
      return "";
    return "api";
  }
};

std::string filled(const std::string& path) {
  return std::regex_replace(path, std::regex{"\\{\\}"}, "x1");
}

} // namespace

TEST_CASE("every route the node answers is in the OpenAPI document and every documented route is answered",
          "[web][openapi]") {
  auto documented = documented_routes();
  auto answered = answered_routes();
  for (const auto& r : answered) {
    CAPTURE(r.first, r.second);
    CHECK(documented.count(r) == 1); // answered, not documented
  }
  for (const auto& r : documented) {
    CAPTURE(r.first, r.second);
    CHECK(answered.count(r) == 1); // documented, not answered
  }
  CHECK(answered.size() >= 26);
}

TEST_CASE("the route tables are what the handlers claim", "[web][openapi]") {
  router r;
  for (const auto& [method, path] : answered_routes()) {
    CAPTURE(method, path);
    CHECK(r.who(method, filled(path)) != "");
  }
  // Near misses belong to nobody (404), so a route cannot hide from the tables.
  for (auto [method, path] : std::vector<route>{{"GET", "/ui"}, {"GET", "/ui/"}, {"GET", "/stats"},
                                                 {"POST", "/stats/throughput"}, {"GET", "/events/live/x"},
                                                 {"GET", "/streams/x1/other"}, {"POST", "/inventory"},
                                                 {"GET", "/docs/"}, {"GET", "/openapi.yaml"}, {"GET", "/index.html"}}) {
    CAPTURE(method, path);
    CHECK(r.who(method, path) == "");
  }
}

TEST_CASE("the document built into the node is OpenAPI 3.1 with every operation's errors", "[web][openapi]") {
  auto doc = json::parse(shop::node::openapi_document());
  CHECK(doc.at("openapi") == "3.1.0");
  for (const auto& [path, item] : doc.at("paths").items())
    for (const auto& [method, op] : item.items()) {
      CAPTURE(path, method);
      CHECK(op.contains("operationId"));
      CHECK(op.at("responses").contains("401")); // --token applies to every route
      bool has_4xx = false;
      for (const auto& [code, response] : op.at("responses").items())
        has_4xx = has_4xx || code[0] == '4';
      CHECK(has_4xx);
    }
}
