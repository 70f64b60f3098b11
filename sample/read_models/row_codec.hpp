// Internal: rows of the read models are cereal binary; these read and write one row, and
// decode the events a projection receives.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "annal/aggregate_traits.hpp"
#include "annal/read_model_store.hpp"
#include "annal/recorded_event.hpp"
#include "annal/serialization.hpp"

namespace shop::detail {

/// The row under `key` decoded as a T, or none. Errors: io_error, corrupt.
template <class T>
annal::result<std::optional<T>> get_row(const annal::read_model_txn& t, annal::table_id table,
                                        std::string_view key) {
  auto raw = t.get(table, key);
  if (!raw)
    return std::move(raw).error();
  if (!*raw)
    return std::optional<T>{};
  auto value = annal::from_bytes<T>(**raw);
  if (!value)
    return std::move(value).error();
  return std::optional<T>{std::move(*value)};
}

/// Stores `value` under `key`. Errors: those of read_model_txn::put.
template <class T>
annal::status put_row(annal::read_model_txn& t, annal::table_id table, std::string_view key,
                      const T& value) {
  auto bytes = annal::to_bytes(value);
  if (!bytes)
    return std::move(bytes).error();
  return t.put(table, key, *bytes);
}

/// Decodes the event `e` of aggregate A (upcasting through `reg`). Errors: corrupt,
/// unknown_event_type.
template <class A>
annal::result<typename A::event> decode_event(const annal::event_registry& reg,
                                              const annal::event_view& e) {
  return annal::aggregate_traits<A>::decode(reg, e.type, e.schema_version, e.payload, e.corrupt);
}

/// The id of the entity a stream belongs to: "order-42" -> "42".
inline std::string entity_id(std::string_view stream_id) {
  auto dash = stream_id.find('-');
  return std::string{dash == std::string_view::npos ? stream_id : stream_id.substr(dash + 1)};
}

/// Big-endian bytes of `x`, so that keys sort by number.
inline std::string big_endian(uint64_t x) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, x >>= 8)
    out[static_cast<std::size_t>(i)] = static_cast<char>(x & 0xff);
  return out;
}

} // namespace shop::detail
