// One item of a command's output (an event, a stream, a problem): named, typed fields
// that the output renders as a JSON object or as a row of a table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace annal::cli {

/// A named value. Thread safety: a value type.
struct field {
  enum class kind : uint8_t { text, number, boolean, json, null };
  std::string name;
  kind type = kind::null;
  /// The text, the number's digits, "true"/"false", or raw JSON text.
  std::string value;
  bool in_table = true;
  bool in_json = true;
  /// On a terminal, a table cell longer than this is cut (0: never).
  std::size_t table_width = 0;
};

/// An ordered list of fields, built with chained calls:
///   record{}.number("position", 7).text("stream", "order-1").json("data", payload_json)
class record {
public:
  record& text(std::string name, std::string_view value);
  record& number(std::string name, uint64_t value);
  record& number(std::string name, int64_t value);
  record& number(std::string name, double value, int decimals);
  record& boolean(std::string name, bool value);
  /// `raw` must be valid JSON (an object, array, number, ...).
  record& json(std::string name, std::string raw);
  record& null(std::string name);

  /// The field added last appears only in JSON output / only in tables.
  record& json_only();
  record& table_only();
  /// On a terminal, the field added last is cut to `width` in tables (so that a wide
  /// column such as the metadata leaves room for the payload after it).
  record& at_most(std::size_t width);

  /// The record as one JSON object (fields not marked table_only).
  std::string to_json() const;

  const std::vector<field>& fields() const noexcept { return fields_; }
  bool empty() const noexcept { return fields_.empty(); }

private:
  std::vector<field> fields_;
};

/// Records as a JSON array (for nested lists such as the categories of `stats`).
std::string json_array(const std::vector<record>& items);

} // namespace annal::cli
