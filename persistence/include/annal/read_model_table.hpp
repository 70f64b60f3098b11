// A typed table of the read-model store: keys and rows are C++ values, not bytes. Rows are
// cereal binary (to_bytes / from_bytes); keys are encoded so that byte order is value
// order (see key_codec), so scans run in key order and by key prefix.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "annal/read_model_store.hpp"
#include "annal/serialization.hpp"

namespace annal {

/// How a key type becomes bytes that sort like its values. Provided: std::string (its
/// bytes), unsigned integers (big-endian, fixed width) and std::tuple / std::pair of them
/// (concatenated; a string that is not the last part ends with a NUL byte and must not
/// contain one). Specialize for other key types: encode(k, out) appends, decode(in)
/// consumes from the front of `in` and returns none on malformed bytes.
template <class K, class = void>
struct key_codec;

template <>
struct key_codec<std::string> {
  static void encode(const std::string& k, std::string& out, bool last) {
    out += k;
    if (!last)
      out.push_back('\0');
  }
  static std::optional<std::string> decode(std::string_view& in, bool last) {
    auto end = last ? in.size() : in.find('\0');
    if (end == std::string_view::npos)
      return std::nullopt;
    std::string k{in.substr(0, end)};
    in.remove_prefix(last ? end : end + 1);
    return k;
  }
};

template <class U>
struct key_codec<U, std::enable_if_t<std::is_integral_v<U> && std::is_unsigned_v<U>>> {
  static void encode(U k, std::string& out, bool) {
    for (int shift = 8 * (static_cast<int>(sizeof(U)) - 1); shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((k >> shift) & 0xff));
  }
  static std::optional<U> decode(std::string_view& in, bool) {
    if (in.size() < sizeof(U))
      return std::nullopt;
    U k = 0;
    for (std::size_t i = 0; i < sizeof(U); ++i)
      k = static_cast<U>((k << 8) | static_cast<unsigned char>(in[i]));
    in.remove_prefix(sizeof(U));
    return k;
  }
};

template <class... Ks>
struct key_codec<std::tuple<Ks...>> {
  static void encode(const std::tuple<Ks...>& k, std::string& out, bool last) {
    encode_parts(k, out, last, std::index_sequence_for<Ks...>{});
  }
  static std::optional<std::tuple<Ks...>> decode(std::string_view& in, bool last) {
    return decode_parts(in, last, std::index_sequence_for<Ks...>{});
  }

private:
  template <std::size_t... Is>
  static void encode_parts(const std::tuple<Ks...>& k, std::string& out, bool last,
                           std::index_sequence<Is...>) {
    (key_codec<Ks>::encode(std::get<Is>(k), out, last && Is + 1 == sizeof...(Ks)), ...);
  }
  template <std::size_t... Is>
  static std::optional<std::tuple<Ks...>> decode_parts(std::string_view& in, bool last,
                                                       std::index_sequence<Is...>) {
    std::tuple<std::optional<Ks>...> parts;
    bool ok = true;
    ((ok = ok && (std::get<Is>(parts) = key_codec<Ks>::decode(in, last && Is + 1 == sizeof...(Ks)))
                   .has_value()),
     ...);
    if (!ok)
      return std::nullopt;
    return std::tuple<Ks...>{std::move(*std::get<Is>(parts))...};
  }
};

template <class A, class B>
struct key_codec<std::pair<A, B>> {
  static void encode(const std::pair<A, B>& k, std::string& out, bool last) {
    key_codec<A>::encode(k.first, out, false);
    key_codec<B>::encode(k.second, out, last);
  }
  static std::optional<std::pair<A, B>> decode(std::string_view& in, bool last) {
    auto a = key_codec<A>::decode(in, false);
    if (!a)
      return std::nullopt;
    auto b = key_codec<B>::decode(in, last);
    if (!b)
      return std::nullopt;
    return std::pair<A, B>{std::move(*a), std::move(*b)};
  }
};

/// The bytes of key `k` (as a whole key).
template <class K>
std::string encode_key(const K& k) {
  std::string out;
  key_codec<K>::encode(k, out, true);
  return out;
}

/// The bytes every key whose first part is `first` starts with (for scans by a prefix).
template <class First>
std::string key_prefix(const First& first) {
  std::string out;
  key_codec<First>::encode(first, out, false);
  return out;
}

/// Rows as cereal binary (the default row codec of read_model_table).
template <class Row>
struct cereal_rows {
  static result<std::string> encode(const Row& row) { return to_bytes(row); }
  static result<Row> decode(std::string_view bytes) { return from_bytes<Row>(bytes); }
};

/// Rows that are keys of another table, stored as that table's key bytes.
template <class K>
struct key_rows {
  static result<std::string> encode(const K& k) { return encode_key(k); }
  static result<K> decode(std::string_view bytes) {
    auto k = key_codec<K>::decode(bytes, true);
    if (!k || !bytes.empty())
      return make_error(errc::corrupt, "a stored key does not decode");
    return std::move(*k);
  }
};

/// A table of rows of type Row under keys of type Key. A value (a table handle); use it
/// inside read_model_store::read / write callbacks. Rows are cereal binary unless RowCodec
/// says otherwise (encode(row) -> result<string>, decode(bytes) -> result<Row>).
template <class Key, class Row, class RowCodec = cereal_rows<Row>>
class read_model_table {
public:
  read_model_table() = default;
  explicit read_model_table(table_id id) noexcept : id_(id) {}

  /// Opens (creating unless read-only) the table `name` of `store`. Errors: as
  /// read_model_store::table.
  static result<read_model_table> open(read_model_store& store, const std::string& name) {
    auto id = store.table(name);
    if (!id)
      return std::move(id).error();
    return read_model_table{*id};
  }

  /// The untyped handle (for read_model_txn and durable_projection::tables bookkeeping).
  table_id id() const noexcept { return id_; }

  /// The row under `key`, or none. Errors: io_error, corrupt (the row does not decode).
  result<std::optional<Row>> get(const read_model_txn& t, const Key& key) const {
    auto raw = t.get(id_, encode_key(key));
    if (!raw)
      return std::move(raw).error();
    if (!*raw)
      return std::optional<Row>{};
    auto row = RowCodec::decode(**raw);
    if (!row)
      return std::move(row).error();
    return std::optional<Row>{std::move(*row)};
  }

  /// Stores `row` under `key`. Errors: as read_model_txn::put, bad_request when the row
  /// does not serialize.
  status put(read_model_txn& t, const Key& key, const Row& row) const {
    auto bytes = RowCodec::encode(row);
    if (!bytes)
      return std::move(bytes).error();
    return t.put(id_, encode_key(key), *bytes);
  }

  /// Removes the row under `key` if there is one.
  status erase(read_model_txn& t, const Key& key) const { return t.erase(id_, encode_key(key)); }

  /// Calls `fn(key, row)` in key order for the rows whose key bytes start with `prefix`
  /// (see key_prefix; empty: every row) until it returns false. Errors: io_error, corrupt.
  template <class F>
  status scan(const read_model_txn& t, F&& fn, std::string_view prefix = {}) const {
    status failed;
    auto ok = t.scan(id_, prefix, [&](std::string_view k, std::string_view v) {
      auto key = key_codec<Key>::decode(k, true);
      auto row = RowCodec::decode(v);
      if (!key || !k.empty() || !row) {
        failed = row ? make_error(errc::corrupt, "a key of the table does not decode")
                     : std::move(row).error();
        return false;
      }
      return static_cast<bool>(fn(std::move(*key), std::move(*row)));
    });
    if (!ok)
      return ok;
    return failed;
  }

  /// The rows whose key bytes start with `prefix`, in key order. Errors: as scan().
  result<std::vector<Row>> rows(const read_model_txn& t, std::string_view prefix = {}) const {
    std::vector<Row> out;
    auto ok = scan(t, [&](const Key&, Row row) {
      out.push_back(std::move(row));
      return true;
    }, prefix);
    if (!ok)
      return std::move(ok).error();
    return out;
  }

private:
  table_id id_ = 0;
};

} // namespace annal
