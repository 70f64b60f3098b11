#include "raw_read_txn.hpp"

#include "annal/layout/lmdb_error.hpp"

namespace annal::cli {

result<raw_read_txn> raw_read_txn::begin(void* env) {
  auto* e = static_cast<MDB_env*>(env);
  for (int attempt = 0;; ++attempt) {
    MDB_txn* t = nullptr;
    int rc = mdb_txn_begin(e, nullptr, MDB_RDONLY, &t);
    if (rc == 0)
      return raw_read_txn{t};
    // A writer process grew the map since we opened it: adopt the new size and retry.
    if (rc == MDB_MAP_RESIZED && attempt < 3 && mdb_env_set_mapsize(e, 0) == 0)
      continue;
    return layout::lmdb_error(rc, "begin read transaction");
  }
}

raw_read_txn::raw_read_txn(raw_read_txn&& other) noexcept : txn_(other.txn_) {
  other.txn_ = nullptr;
}

raw_read_txn::~raw_read_txn() {
  if (txn_ != nullptr)
    mdb_txn_abort(txn_);
}

result<MDB_dbi> raw_read_txn::table(const char* name) const {
  MDB_dbi dbi = 0;
  int rc = mdb_dbi_open(txn_, name, 0, &dbi);
  if (rc == MDB_NOTFOUND)
    return make_error(errc::not_found, std::string{"no table '"} + name + "'");
  if (rc != 0)
    return layout::lmdb_error(rc, "open table");
  return dbi;
}

result<raw_read_txn::lookup> raw_read_txn::get(MDB_dbi dbi, std::string_view key) const {
  MDB_val k{key.size(), const_cast<char*>(key.data())}, v;
  int rc = mdb_get(txn_, dbi, &k, &v);
  if (rc == MDB_NOTFOUND)
    return lookup{};
  if (rc != 0)
    return layout::lmdb_error(rc, "read");
  return lookup{true, view_of(v)};
}

raw_cursor::raw_cursor(const raw_read_txn& t, MDB_dbi dbi) noexcept {
  rc_ = mdb_cursor_open(t.get(), dbi, &cur_);
  if (rc_ != 0)
    cur_ = nullptr;
}

raw_cursor::~raw_cursor() {
  if (cur_ != nullptr)
    mdb_cursor_close(cur_);
}

} // namespace annal::cli
