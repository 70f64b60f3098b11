#include "record.hpp"

#include <cmath>
#include <cstdio>

#include "json_text.hpp"

namespace annal::cli {

record& record::text(std::string name, std::string_view value) {
  fields_.push_back(field{std::move(name), field::kind::text, std::string{value}});
  return *this;
}

record& record::number(std::string name, uint64_t value) {
  fields_.push_back(field{std::move(name), field::kind::number, std::to_string(value)});
  return *this;
}

record& record::number(std::string name, int64_t value) {
  fields_.push_back(field{std::move(name), field::kind::number, std::to_string(value)});
  return *this;
}

record& record::number(std::string name, double value, int decimals) {
  if (!std::isfinite(value))
    return null(std::move(name));
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  fields_.push_back(field{std::move(name), field::kind::number, buf});
  return *this;
}

record& record::boolean(std::string name, bool value) {
  fields_.push_back(field{std::move(name), field::kind::boolean, value ? "true" : "false"});
  return *this;
}

record& record::json(std::string name, std::string raw) {
  fields_.push_back(field{std::move(name), field::kind::json, std::move(raw)});
  return *this;
}

record& record::null(std::string name) {
  fields_.push_back(field{std::move(name), field::kind::null, {}});
  return *this;
}

record& record::json_only() {
  if (!fields_.empty())
    fields_.back().in_table = false;
  return *this;
}

record& record::table_only() {
  if (!fields_.empty())
    fields_.back().in_json = false;
  return *this;
}

record& record::at_most(std::size_t width) {
  if (!fields_.empty())
    fields_.back().table_width = width;
  return *this;
}

std::string record::to_json() const {
  std::string out = "{";
  bool first = true;
  for (const auto& f : fields_) {
    if (!f.in_json)
      continue;
    if (!first)
      out.push_back(',');
    first = false;
    append_json_string(out, f.name);
    out.push_back(':');
    switch (f.type) {
      case field::kind::text: append_json_string(out, f.value); break;
      case field::kind::null: out += "null"; break;
      default: out += f.value; break;
    }
  }
  out.push_back('}');
  return out;
}

std::string json_array(const std::vector<record>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0)
      out.push_back(',');
    out += items[i].to_json();
  }
  out.push_back(']');
  return out;
}

} // namespace annal::cli
