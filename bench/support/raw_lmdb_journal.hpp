// The raw LMDB journal: the physical baseline for Annal's event journal. Plain lmdb.h on
// its own environment (main database only): values appended under 8-byte big-endian
// increasing keys with MDB_APPEND, one write transaction per batch, and read back by a
// plain cursor walk. Whatever Annal adds on top (envelope encoding and checksum, stream
// index, stream heads, validation, the result types) shows as the distance to it.
//
// It opens its environment with the same flags as Annal's (MDB_NOTLS | MDB_NORDAHEAD, plus
// MDB_NOSYNC in no-sync mode) so that durability costs the same on both sides.
// Thread safety: one thread at a time.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace annal::bench {

class raw_lmdb_journal {
public:
  /// Opens (creating) the environment in `dir`. `map_size` is address space only; the
  /// file grows as pages are written. Check ok() / error().
  raw_lmdb_journal(const std::filesystem::path& dir, bool no_sync,
                   std::size_t map_size = std::size_t{8} << 30) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    int rc = mdb_env_create(&env_);
    if (rc == 0)
      rc = mdb_env_set_mapsize(env_, map_size);
    unsigned flags = MDB_NOTLS | MDB_NORDAHEAD | (no_sync ? MDB_NOSYNC : 0u);
    if (rc == 0)
      rc = mdb_env_open(env_, dir.c_str(), flags, 0644);
    MDB_txn* t = nullptr;
    if (rc == 0)
      rc = mdb_txn_begin(env_, nullptr, 0, &t);
    if (rc == 0) {
      rc = mdb_dbi_open(t, nullptr, 0, &dbi_);
      rc = rc == 0 ? mdb_txn_commit(t) : (mdb_txn_abort(t), rc);
    }
    if (rc != 0)
      fail(rc, "open raw LMDB journal in " + dir.string());
  }

  ~raw_lmdb_journal() {
    if (env_ != nullptr)
      mdb_env_close(env_);
  }
  raw_lmdb_journal(const raw_lmdb_journal&) = delete;
  raw_lmdb_journal& operator=(const raw_lmdb_journal&) = delete;

  bool ok() const noexcept { return error_.empty(); }
  const std::string& error() const noexcept { return error_; }

  /// Appends `count` copies of `value` under the next keys in ONE write transaction
  /// (begin, MDB_APPEND puts, commit: the durable commit syncs unless no-sync).
  /// Returns false (see error()) on failure.
  bool append_batch(std::size_t count, std::string_view value) {
    MDB_txn* t = nullptr;
    if (int rc = mdb_txn_begin(env_, nullptr, 0, &t); rc != 0)
      return fail(rc, "begin write transaction");
    char key[8];
    for (std::size_t i = 0; i < count; ++i) {
      store_be64(key, ++last_key_);
      MDB_val k{8, key}, v{value.size(), const_cast<char*>(value.data())};
      if (int rc = mdb_put(t, dbi_, &k, &v, MDB_APPEND); rc != 0) {
        mdb_txn_abort(t);
        last_key_ -= i + 1;
        return fail(rc, "append");
      }
    }
    if (int rc = mdb_txn_commit(t); rc != 0) {
      last_key_ -= count;
      return fail(rc, "commit");
    }
    return true;
  }

  /// Walks up to `max_count` records with keys >= `first` in key order inside ONE read
  /// transaction, calling `visit(uint64_t key, std::string_view value)` for each (the view
  /// points into the map: valid only during the call). Returns how many were visited,
  /// or -1 on failure (see error()).
  template <class Visit>
  int64_t walk(uint64_t first, uint64_t max_count, Visit&& visit) {
    MDB_txn* t = nullptr;
    if (int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t); rc != 0)
      return fail(rc, "begin read transaction"), -1;
    MDB_cursor* c = nullptr;
    if (int rc = mdb_cursor_open(t, dbi_, &c); rc != 0) {
      mdb_txn_abort(t);
      return fail(rc, "open cursor"), -1;
    }
    char key[8];
    store_be64(key, first);
    MDB_val k{8, key}, v;
    int64_t n = 0;
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
         rc == 0 && static_cast<uint64_t>(n) < max_count; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
      ++n;
      visit(load_be64(static_cast<const char*>(k.mv_data)),
            std::string_view{static_cast<const char*>(v.mv_data), v.mv_size});
    }
    mdb_cursor_close(c);
    mdb_txn_abort(t);
    return n;
  }

  /// Forces buffered commits to disk.
  bool sync() {
    if (int rc = mdb_env_sync(env_, 1); rc != 0)
      return fail(rc, "mdb_env_sync");
    return true;
  }

  /// Key of the newest record appended through this object (0: none).
  uint64_t last_key() const noexcept { return last_key_; }

private:
  static void store_be64(char* out, uint64_t x) noexcept {
    for (int i = 7; i >= 0; --i, x >>= 8)
      out[i] = static_cast<char>(x & 0xff);
  }
  static uint64_t load_be64(const char* in) noexcept {
    uint64_t x = 0;
    for (int i = 0; i < 8; ++i)
      x = (x << 8) | static_cast<unsigned char>(in[i]);
    return x;
  }
  bool fail(int rc, const std::string& what) {
    error_ = what + ": " + mdb_strerror(rc);
    return false;
  }

  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
  uint64_t last_key_ = 0;
  std::string error_;
};

} // namespace annal::bench
