// A read-only LMDB transaction on an environment the library opened (its native handle),
// for what the public API does not offer: the meta table, and verify's walk over every
// table inside ONE transaction, so that it sees one consistent state while a node writes.
#pragma once

#include <lmdb.h>

#include <string_view>

#include "annal/result.hpp"

namespace annal::cli {

/// Thread safety: used by one thread; views it yields are valid until it ends (MDB_val).
class raw_read_txn {
public:
  /// Begins a read transaction on `env` (adopting a map grown by a writer process).
  /// REQUIRES: no other transaction of this process is active on `env` when the map grew.
  static result<raw_read_txn> begin(void* env);

  raw_read_txn(raw_read_txn&& other) noexcept;
  raw_read_txn& operator=(raw_read_txn&&) = delete;
  raw_read_txn(const raw_read_txn&) = delete;
  ~raw_read_txn();

  MDB_txn* get() const noexcept { return txn_; }

  /// Handle of the named table. Errors: not_found, io_error.
  result<MDB_dbi> table(const char* name) const;

  /// The value under `key` in `dbi`, or an empty optional-like: found == false.
  struct lookup {
    bool found = false;
    std::string_view value;
  };
  result<lookup> get(MDB_dbi dbi, std::string_view key) const;

private:
  explicit raw_read_txn(MDB_txn* t) noexcept : txn_(t) {}
  MDB_txn* txn_ = nullptr;
};

/// RAII cursor on one table of a raw_read_txn.
class raw_cursor {
public:
  raw_cursor(const raw_read_txn& t, MDB_dbi dbi) noexcept;
  ~raw_cursor();
  raw_cursor(const raw_cursor&) = delete;
  raw_cursor& operator=(const raw_cursor&) = delete;
  bool ok() const noexcept { return cur_ != nullptr; }
  int rc() const noexcept { return rc_; }
  /// mdb_cursor_get; returns the LMDB code (0, MDB_NOTFOUND, ...).
  int get(MDB_val& key, MDB_val& value, MDB_cursor_op op) noexcept {
    return mdb_cursor_get(cur_, &key, &value, op);
  }

private:
  MDB_cursor* cur_ = nullptr;
  int rc_ = 0;
};

/// A view of an MDB_val.
inline std::string_view view_of(const MDB_val& v) noexcept {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

} // namespace annal::cli
