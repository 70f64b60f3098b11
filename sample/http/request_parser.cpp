// Routing: the route table, the headers of commands, and the checks every body passes.
#include "shop/http/request_parser.hpp"

#include <array>

#include "parsers.hpp"

namespace shop::http {

namespace {

using detail::captures;
using command_parser = parse_result (*)(const detail::json&, command_meta, const captures&);
using query_parser = parse_result (*)(const request_view&, const captures&);

/// One route: a method, a path pattern ("*" captures one segment) and its parser.
struct route {
  const char* method;
  std::array<const char*, 3> pattern; // unused trailing segments are nullptr
  command_parser command;
  query_parser query;
};

const route routes[] = {
  {"POST", {"products", nullptr, nullptr}, detail::parse_create_product, nullptr},
  {"POST", {"products", "*", "price"}, detail::parse_change_price, nullptr},
  {"POST", {"inventory", "*", "restock"}, detail::parse_restock, nullptr},
  {"POST", {"orders", nullptr, nullptr}, detail::parse_place_order, nullptr},
  {"POST", {"orders", "*", "pay"}, detail::parse_pay_order, nullptr},
  {"POST", {"orders", "*", "ship"}, detail::parse_ship_order, nullptr},
  {"POST", {"orders", "*", "cancel"}, detail::parse_cancel_order, nullptr},
  {"GET", {"products", "*", nullptr}, nullptr, detail::parse_get_product},
  {"GET", {"inventory", "*", nullptr}, nullptr, detail::parse_get_inventory},
  {"GET", {"orders", "*", nullptr}, nullptr, detail::parse_get_order},
  {"GET", {"customers", "*", "orders"}, nullptr, detail::parse_get_customer_orders},
  {"GET", {"reports", "sales", nullptr}, nullptr, detail::parse_get_sales},
  {"GET", {"streams", "*", "events"}, nullptr, detail::parse_get_stream_events},
  {"GET", {"events", nullptr, nullptr}, nullptr, detail::parse_get_events},
  {"GET", {"projections", nullptr, nullptr}, nullptr, detail::parse_get_projections},
  {"GET", {"health", nullptr, nullptr}, nullptr, detail::parse_get_health},
  {"GET", {"metrics", nullptr, nullptr}, nullptr, detail::parse_get_metrics},
};

// The segments of "/a/b/c"; false when the path is not absolute or has more than three
// segments or an empty one (no route has them).
bool split_path(std::string_view path, std::vector<std::string_view>& out) {
  if (path.empty() || path.front() != '/')
    return false;
  path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    auto seg = path.substr(0, slash);
    if (seg.empty() || out.size() == 3)
      return false;
    out.push_back(seg);
    if (slash == std::string_view::npos)
      return true;
    path.remove_prefix(slash + 1);
  }
}

bool matches(const route& r, const std::vector<std::string_view>& segs, captures& out) {
  std::size_t n = 0;
  while (n < r.pattern.size() && r.pattern[n] != nullptr)
    ++n;
  if (n != segs.size())
    return false;
  captures c;
  for (std::size_t i = 0; i < n; ++i) {
    std::string_view p = r.pattern[i];
    if (p == "*")
      c.emplace_back(segs[i]);
    else if (p != segs[i])
      return false;
  }
  out = std::move(c);
  return true;
}

// The media type of a Content-Type value, without parameters and blanks, lower case.
std::string media_type(std::string_view value) {
  auto semi = value.find(';');
  auto type = value.substr(0, semi);
  std::string out;
  for (char c : type) {
    if (c == ' ' || c == '\t')
      continue;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

// The headers of a command: Idempotency-Key and If-Match.
std::optional<api_error> read_command_meta(const request_view& req, command_meta& meta) {
  if (auto key = req.header("Idempotency-Key")) {
    if (key->empty() || key->size() > 128)
      return bad_request("Idempotency-Key must be 1-128 characters");
    for (char c : *key)
      if (c < 0x21 || c > 0x7e)
        return bad_request("Idempotency-Key must be printable ASCII without blanks");
    meta.idempotency_key = std::string{*key};
  }
  if (auto tag = req.header("If-Match")) {
    auto v = *tag;
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') // an ETag-style "3"
      v = v.substr(1, v.size() - 2);
    auto n = detail::parse_unsigned(v);
    if (!n)
      return bad_request("If-Match must be a stream version (a decimal number)");
    meta.if_match = *n;
  }
  return std::nullopt;
}

parse_result run_command(const route& r, const request_view& req, const captures& c) {
  if (req.body.size() > max_body_bytes)
    return payload_too_large();
  if (!req.body.empty()) {
    auto type = req.header("Content-Type");
    if (!type)
      return unsupported_media_type("a body needs 'Content-Type: application/json'");
    if (media_type(*type) != "application/json")
      return unsupported_media_type("the body must be application/json, not '"
                                    + std::string{type->substr(0, 100)} + "'");
  }
  command_meta meta;
  if (auto e = read_command_meta(req, meta))
    return *e;
  detail::json body;
  if (auto e = detail::parse_object(req.body, body))
    return *e;
  return r.command(body, std::move(meta), c);
}

} // namespace

parse_result parse_request(const request_view& req) {
  std::vector<std::string_view> segs;
  auto route_text = [&] {
    return std::string{req.method.substr(0, 16)} + " " + std::string{req.path.substr(0, 200)};
  };
  if (!split_path(req.path, segs))
    return not_found("no route " + route_text());
  captures c;
  bool path_known = false;
  for (const auto& r : routes) {
    if (!matches(r, segs, c))
      continue;
    path_known = true;
    if (req.method != r.method)
      continue;
    for (const auto& id : c)
      if (id.empty())
        return not_found("no route " + route_text());
    return r.command ? run_command(r, req, c) : r.query(req, c);
  }
  if (path_known)
    return not_found("no route " + route_text() + " (wrong method)");
  return not_found("no route " + route_text());
}

std::vector<api_route> api_routes() {
  std::vector<api_route> out;
  for (const auto& r : routes) {
    std::string path;
    for (const char* seg : r.pattern) {
      if (seg == nullptr)
        break;
      path += '/';
      path += std::string_view{seg} == "*" ? "{}" : seg;
    }
    out.push_back({r.method, std::move(path)});
  }
  return out;
}

} // namespace shop::http
