#include "json_fields.hpp"

#include "shop/domain/limits.hpp"

namespace shop::http::detail {

maybe_error parse_object(std::string_view body, json& out) {
  if (body.empty()) {
    out = json::object();
    return std::nullopt;
  }
  // No exceptions: a malformed document (bad syntax, invalid UTF-8) comes back discarded.
  out = json::parse(body.begin(), body.end(), nullptr, false);
  if (out.is_discarded())
    return bad_request("the body is not valid JSON");
  if (!out.is_object())
    return bad_request("the body must be a JSON object");
  return std::nullopt;
}

maybe_error get_string(const json& obj, const char* name, bool required, std::size_t max_bytes,
                       std::string& out) {
  auto i = obj.find(name);
  if (i == obj.end() || i->is_null()) {
    if (required)
      return bad_request(std::string{"missing field '"} + name + "'");
    return std::nullopt;
  }
  if (!i->is_string())
    return bad_request(std::string{"field '"} + name + "' must be a string");
  const auto& s = i->get_ref<const std::string&>();
  if (required && s.empty())
    return bad_request(std::string{"field '"} + name + "' must not be empty");
  if (s.size() > max_bytes)
    return bad_request(std::string{"field '"} + name + "' is longer than "
                       + std::to_string(max_bytes) + " bytes");
  out = s;
  return std::nullopt;
}

maybe_error get_id(const json& obj, const char* name, bool required, std::string& out) {
  std::string value;
  if (auto e = get_string(obj, name, required, max_id_length, value))
    return e;
  if (value.empty() && !required)
    return std::nullopt;
  if (!valid_id(value))
    return bad_request(std::string{"field '"} + name
                       + "' must be 1-64 characters of [A-Za-z0-9._-]");
  out = std::move(value);
  return std::nullopt;
}

maybe_error as_int(const json& value, const std::string& what, int64_t min, int64_t max,
                   int64_t& out) {
  if (!value.is_number_integer())
    return bad_request(what + " must be an integer");
  int64_t v = 0;
  if (value.is_number_unsigned()) {
    auto u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(max))
      return bad_request(what + " must be at most " + std::to_string(max));
    v = static_cast<int64_t>(u);
  } else {
    v = value.get<int64_t>();
  }
  if (v < min || v > max)
    return bad_request(what + " must be within " + std::to_string(min) + ".."
                       + std::to_string(max));
  out = v;
  return std::nullopt;
}

maybe_error get_int(const json& obj, const char* name, int64_t min, int64_t max, int64_t& out) {
  auto i = obj.find(name);
  if (i == obj.end() || i->is_null())
    return bad_request(std::string{"missing field '"} + name + "'");
  return as_int(*i, std::string{"field '"} + name + "'", min, max, out);
}

} // namespace shop::http::detail
