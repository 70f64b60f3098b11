// The page's routes: its static files (public), its data (behind the token like the API).
#include "shop/node/page_routes.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <optional>
#include <sstream>

#include "json_response.hpp"
#include "shop/domain/inventory.hpp"
#include "shop/domain/order.hpp"
#include "shop/domain/product.hpp"
#include "shop/http/api_error.hpp"
#include "shop/http/unsigned_number.hpp"
#include "shop/node/render.hpp"
#include "shop/read_models/queries.hpp"

namespace shop::node {

using nlohmann::json;

namespace {

/// Largest file served (the docs' bundle is about 1 MiB).
constexpr std::uintmax_t max_file_bytes = 16u << 20;
/// Rows of GET /inventory at most.
constexpr std::size_t max_inventory_rows = 1000;

constexpr const char* not_built_page = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>shop node</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:2em auto">
<h1>The operations page is not built</h1>
<p>This node serves its HTTP API as usual (described at <a href="/openapi.json">/openapi.json</a>),
but the page's files are missing from its web root.</p>
<p>Build them, then reload: <code>./dev run</code> does it, or by hand (Node.js and npm):</p>
<pre>npm --prefix web ci
npm --prefix web run build</pre>
<p>or start the node with <code>--web-root DIR</code> naming a folder that holds them.</p>
</body></html>
)";

http_response error(const http::api_error& e) {
  return shop_service::error_response(e);
}

std::string content_type_of(std::string_view name) {
  auto dot = name.rfind('.');
  auto ext = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
  if (ext == "html")
    return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs")
    return "text/javascript; charset=utf-8";
  if (ext == "css")
    return "text/css; charset=utf-8";
  if (ext == "json" || ext == "map")
    return "application/json";
  if (ext == "svg")
    return "image/svg+xml";
  if (ext == "png")
    return "image/png";
  if (ext == "ico")
    return "image/x-icon";
  if (ext == "txt")
    return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

// A file name the page may ask for: no folders, no dot files (nothing outside the root).
bool safe_name(std::string_view name) {
  if (name.empty() || name.size() > 100 || name.front() == '.')
    return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
          || c == '-' || c == '_'))
      return false;
  return true;
}

std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return std::nullopt;
  auto size = std::filesystem::file_size(path, ec);
  if (ec || size > max_file_bytes)
    return std::nullopt;
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return std::move(out).str();
}

http_response file_response(const std::filesystem::path& dir, std::string_view name) {
  if (!safe_name(name))
    return error(http::not_found("no file '" + std::string{name.substr(0, 100)} + "'"));
  auto body = read_file(dir / std::string{name});
  if (!body)
    return error(http::not_found("no file '" + std::string{name} + "' (is the page built?)"));
  return http_response{200, std::move(*body), content_type_of(name), false};
}

// The segment after `prefix` ("/ui/" + name), or none.
std::optional<std::string_view> file_after(std::string_view path, std::string_view prefix) {
  if (path.size() <= prefix.size() || path.compare(0, prefix.size(), prefix) != 0)
    return std::nullopt;
  return path.substr(prefix.size());
}

// -- data -------------------------------------------------------------------------------------

http_response inventory_list(annal::runtime& rt, const read_model_tables& tables) {
  json rows = json::array();
  bool truncated = false;
  auto ok = rt.read_models().read([&](const annal::read_model_txn& t) -> annal::status {
    auto products = all_products(t, tables);
    if (!products)
      return std::move(products).error();
    auto stock = all_inventory(t, tables);
    if (!stock)
      return std::move(stock).error();
    // Both are ordered by sku: merge them (a sku restocked before its product was
    // projected has stock without a name).
    auto p = products->begin();
    auto s = stock->begin();
    while (p != products->end() || s != stock->end()) {
      if (rows.size() == max_inventory_rows) {
        truncated = true;
        break;
      }
      bool take_p = p != products->end() && (s == stock->end() || p->sku <= s->sku);
      bool take_s = s != stock->end() && (p == products->end() || s->sku <= p->sku);
      json row = {{"sku", take_p ? p->sku : s->sku}};
      if (take_p) {
        row["name"] = p->name;
        row["price_cents"] = p->price_cents;
      }
      row["on_hand"] = take_s ? s->on_hand : 0;
      row["reserved"] = take_s ? s->reserved : 0;
      row["available"] = take_s ? s->available() : 0;
      rows.push_back(std::move(row));
      if (take_p)
        ++p;
      if (take_s)
        ++s;
    }
    return {};
  });
  if (!ok)
    return error(to_api_error(ok.error()));
  return ok_json({{"skus", std::move(rows)}, {"truncated", truncated}});
}

template <class A, class Render>
http_response state_at(annal::runtime& rt, const std::string& stream, std::string_view id,
                       std::optional<uint64_t> version, Render render) {
  auto when = version ? annal::as_of::version(*version) : annal::as_of::latest();
  auto v = rt.load<A>(std::string{id}, when);
  if (!v)
    return error(to_api_error(v.error()));
  if (version && v->version < *version)
    return error(http::not_found("stream '" + stream + "' has " + std::to_string(v->version)
                                 + " events, not " + std::to_string(*version)));
  return ok_json({{"stream", stream}, {"version", v->version}, {"state", render(v->state, v->version)}});
}

http_response stream_state(annal::runtime& rt, std::string_view stream, const http::request_view& req) {
  std::optional<uint64_t> version;
  if (auto v = req.param("version")) {
    version = http::parse_unsigned(*v);
    if (!version || *version == 0)
      return error(http::bad_request("query parameter 'version' must be 1 or more"));
  }
  auto dash = stream.find('-');
  auto category = stream.substr(0, dash);
  auto id = dash == std::string_view::npos ? std::string_view{} : stream.substr(dash + 1);
  std::string name{stream};
  if (id.empty())
    return error(http::not_found("no stream '" + name + "'"));
  if (category == "order")
    return state_at<order>(rt, name, id, version, [](const order_state& s, uint64_t v) {
      return to_json(make_order_view(s, v));
    });
  if (category == "product")
    return state_at<product>(rt, name, id, version, [](const product_state& s, uint64_t) {
      return json{{"sku", s.sku}, {"name", s.name}, {"price_cents", s.price_cents}};
    });
  if (category == "inventory")
    return state_at<inventory>(rt, name, id, version, [](const inventory_state& s, uint64_t) {
      return json{{"on_hand", s.on_hand},
                  {"reserved", s.reserved},
                  {"available", s.available()},
                  {"reservations", s.reservations}};
    });
  return error(http::not_found("no aggregate type for stream '" + name + "'"));
}

} // namespace

std::vector<route_spec> page_routes() {
  return {
    {"GET", "/"},
    {"GET", "/ui/{file}"},
    {"GET", "/docs"},
    {"GET", "/docs/{file}"},
    {"GET", "/openapi.json"},
    {"GET", "/inventory"},
    {"GET", "/streams/{stream}/state"},
    {"GET", "/stats/throughput"},
    {"GET", "/events/live"},
  };
}

extra_route page_files_route(std::filesystem::path web_root) {
  return [root = std::move(web_root)](const http::request_view& req, responder done) {
    if (req.method != "GET")
      return false;
    const auto& path = req.path;
    if (path == "/") {
      auto page = read_file(root / "index.html");
      if (!page)
        done(http_response{404, not_built_page, "text/html; charset=utf-8", false});
      else
        done(http_response{200, std::move(*page), "text/html; charset=utf-8", false});
      return true;
    }
    if (path == "/openapi.json") {
      done(http_response{200, std::string{openapi_document()}, "application/json", false});
      return true;
    }
    if (path == "/docs") {
      auto page = read_file(root / "docs.html");
      if (!page)
        done(http_response{404, not_built_page, "text/html; charset=utf-8", false});
      else
        done(http_response{200, std::move(*page), "text/html; charset=utf-8", false});
      return true;
    }
    if (auto name = file_after(path, "/ui/")) {
      done(file_response(root, *name));
      return true;
    }
    if (auto name = file_after(path, "/docs/")) {
      done(file_response(root, *name));
      return true;
    }
    return false;
  };
}

extra_route page_data_route(annal::runtime& rt, read_model_tables tables,
                            const throughput_sampler& sampler) {
  return [&rt, tables, &sampler](const http::request_view& req, responder done) {
    const auto& path = req.path;
    if (path == "/inventory" && req.method == "GET") {
      done(inventory_list(rt, tables));
      return true;
    }
    if (path == "/stats/throughput" && req.method == "GET") {
      int64_t after = 0;
      if (auto a = req.param("after")) {
        auto v = http::parse_unsigned(*a);
        if (!v || *v > static_cast<uint64_t>(INT64_MAX)) {
          done(error(http::bad_request("query parameter 'after' must be a Unix time in ms")));
          return true;
        }
        after = static_cast<int64_t>(*v);
      }
      done(ok_json(sampler.samples_after(after)));
      return true;
    }
    // /streams/{stream}/state
    static constexpr std::string_view prefix = "/streams/";
    static constexpr std::string_view suffix = "/state";
    if (req.method == "GET" && path.size() > prefix.size() + suffix.size()
        && path.compare(0, prefix.size(), prefix) == 0
        && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0) {
      auto stream = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
      if (stream.find('/') != std::string_view::npos)
        return false;
      done(stream_state(rt, stream, req));
      return true;
    }
    return false;
  };
}

} // namespace shop::node
