// Internal: an LMDB environment with named databases, automatic map growth and
// error mapping. Shared by the event store and the read-model environments.
#pragma once

#include <lmdb.h>

#include <exception>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "annal/result.hpp"
#include "annal/store_options.hpp"

namespace annal::detail {

/// Maps an LMDB or errno return code to an annal::error naming the operation.
error lmdb_error(int rc, const char* what);

/// A transaction handle passed to the functions given to lmdb_env::write / read. Records
/// whether a put ran out of map space so that the environment can grow and retry.
/// Thread safety: used by one thread inside one call; never stored.
class txn {
public:
  explicit txn(MDB_txn* t) noexcept : txn_(t) {}
  MDB_txn* get() const noexcept { return txn_; }

  /// mdb_get: returns 0, MDB_NOTFOUND or another LMDB code.
  int get(MDB_dbi dbi, MDB_val& key, MDB_val& value) const noexcept;

  /// mdb_put; remembers MDB_MAP_FULL. Returns the LMDB code.
  int put(MDB_dbi dbi, MDB_val& key, MDB_val& value, unsigned flags = 0) noexcept;

  /// mdb_del of a key (all values); MDB_NOTFOUND is returned as is.
  int del(MDB_dbi dbi, MDB_val& key) noexcept;

  /// Records an LMDB code returned by a call made through get() directly.
  int note(int rc) noexcept;

  /// True when some write in this transaction failed with MDB_MAP_FULL.
  bool map_full() const noexcept { return map_full_; }

private:
  MDB_txn* txn_;
  bool map_full_ = false;
};

/// RAII cursor over one database inside a transaction.
class cursor {
public:
  cursor(const txn& t, MDB_dbi dbi) noexcept;
  ~cursor();
  cursor(const cursor&) = delete;
  cursor& operator=(const cursor&) = delete;
  /// False when mdb_cursor_open failed (rc() tells why).
  bool ok() const noexcept { return cur_ != nullptr; }
  int rc() const noexcept { return rc_; }
  /// mdb_cursor_get.
  int get(MDB_val& key, MDB_val& value, MDB_cursor_op op) noexcept;
  /// mdb_cursor_del of the current item.
  int del() noexcept;
  MDB_cursor* native() const noexcept { return cur_; }

private:
  MDB_cursor* cur_ = nullptr;
  int rc_ = 0;
};

/// Tests only: runs between mdb_env_open and the open's first transaction, the window in
/// which another process may grow the map (null in production).
inline void (*after_env_open_for_tests)() = nullptr;

/// An open LMDB environment. Thread safety: safe for concurrent use; write() calls are
/// serialized by LMDB's writer lock and map growth excludes every other transaction of
/// this process for its duration.
class lmdb_env {
public:
  /// Opens `options.dir` (created when missing) with the named databases `dbs`, leaving
  /// room for `extra_dbs` more to be opened later.
  /// Tables of another kind of store (e.g. a journal's tables in a read-model folder)
  /// make the open fail with errc::corrupt before anything is written.
  static result<std::unique_ptr<lmdb_env>> open(const store_options& options,
                                                const std::vector<std::string>& dbs,
                                                unsigned extra_dbs = 0,
                                                const std::vector<std::string>& foreign = {});

  /// Opens (creating when `create`) a named table after open. Errors: not_found,
  /// bad_request (no table slot left), io_error.
  result<MDB_dbi> open_table(const std::string& name, bool create);
  ~lmdb_env();
  lmdb_env(const lmdb_env&) = delete;
  lmdb_env& operator=(const lmdb_env&) = delete;

  /// Handle of the i-th database named at open.
  MDB_dbi dbi(std::size_t i) const noexcept { return dbis_[i]; }
  MDB_env* native() const noexcept { return env_; }
  const store_options& options() const noexcept { return options_; }

  /// Runs `fn(txn&) -> result<R>` in a write transaction and commits when it succeeds.
  /// On MDB_MAP_FULL the transaction is aborted, the map grown (up to the cap) and `fn`
  /// run again, so `fn` must be repeatable. Past the cap: errc::storage_full, and nothing
  /// is written.
  template <class F>
  auto write(F&& fn) -> decltype(fn(std::declval<txn&>()));

  /// Runs `fn(const txn&) -> result<R>` in a read-only transaction.
  template <class F>
  auto read(F&& fn) -> decltype(fn(std::declval<const txn&>()));

  /// Flushes buffered commits to disk (mdb_env_sync with force).
  status sync();

  /// Copies a consistent, compacted image of the environment into the empty folder `dest`
  /// (mdb_env_copy2 with MDB_CP_COMPACT), adopting a map grown by another process.
  status copy_to(const std::filesystem::path& dest);

  /// Current map size in bytes.
  std::size_t map_size() const;

private:
  lmdb_env() = default;
  // mdb_txn_begin.
  int begin(unsigned flags, MDB_txn** out);
  // Adopts a map size grown by another process (after MDB_MAP_RESIZED).
  void adopt_external_resize();
  // The map size. REQUIRES: resize_mutex_ held (shared or exclusive): mdb_env_info reads
  // the meta pages through the map, which a resize unmaps.
  std::size_t map_size_unlocked() const;
  // Grows the map after MDB_MAP_FULL; false when the cap is reached.
  bool grow(std::size_t seen_size);
  // The error of a failed commit or sync: storage_full when the disk is (nearly) full,
  // whatever LMDB reported (a short write of a full disk comes back as EIO).
  error write_error(int rc, const char* what) const;

  MDB_env* env_ = nullptr;
  std::vector<MDB_dbi> dbis_;
  store_options options_;
  // Shared by every transaction of this process; exclusive while the map is resized
  // (LMDB requires that no transaction be active in the process then).
  mutable std::shared_mutex resize_mutex_;
};

// Runs `fn(t)`, turning an exception (a throwing visitor, bad_alloc) into an error value so
// that the caller always ends the transaction and nothing escapes the public API.
template <class R, class F, class T>
R call_in_txn(F& fn, T& t) {
  try {
    return fn(t);
  } catch (const std::exception& e) {
    return make_error(errc::io_error, std::string{"exception inside a transaction: "} + e.what());
  } catch (...) {
    return make_error(errc::io_error, "unknown exception inside a transaction");
  }
}

template <class F>
auto lmdb_env::write(F&& fn) -> decltype(fn(std::declval<txn&>())) {
  using result_type = decltype(fn(std::declval<txn&>()));
  if (options_.read_only)
    return make_error(errc::bad_request, "the store is open read-only");
  for (;;) {
    std::shared_lock<std::shared_mutex> guard{resize_mutex_};
    std::size_t seen = map_size_unlocked();
    MDB_txn* raw = nullptr;
    if (int rc = begin(0, &raw); rc != 0) {
      if (rc != MDB_MAP_RESIZED)
        return lmdb_error(rc, "begin write transaction");
      guard.unlock();
      adopt_external_resize();
      continue;
    }
    txn t{raw};
    result_type r = call_in_txn<result_type>(fn, t);
    if (!r.has_value() || t.map_full()) {
      mdb_txn_abort(raw);
      if (!t.map_full())
        return r;
      guard.unlock();
      if (!grow(seen))
        return make_error(errc::storage_full, "the map reached its cap of "
                                                + std::to_string(options_.max_map_size)
                                                + " bytes; nothing was written");
      continue;
    }
    int rc = mdb_txn_commit(raw);
    if (rc == MDB_MAP_FULL) {
      guard.unlock();
      if (!grow(seen))
        return make_error(errc::storage_full, "the map reached its cap; nothing was written");
      continue;
    }
    if (rc != 0)
      return write_error(rc, "commit");
    return r;
  }
}

template <class F>
auto lmdb_env::read(F&& fn) -> decltype(fn(std::declval<const txn&>())) {
  for (;;) {
    std::shared_lock<std::shared_mutex> guard{resize_mutex_};
    MDB_txn* raw = nullptr;
    if (int rc = begin(MDB_RDONLY, &raw); rc != 0) {
      if (rc != MDB_MAP_RESIZED)
        return lmdb_error(rc, "begin read transaction");
      guard.unlock();
      adopt_external_resize();
      continue;
    }
    const txn t{raw};
    auto r = call_in_txn<decltype(fn(t))>(fn, t);
    mdb_txn_abort(raw);
    return r;
  }
}

} // namespace annal::detail
