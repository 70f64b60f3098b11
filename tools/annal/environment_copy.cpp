#include "environment_copy.hpp"

#include <lmdb.h>

#include "annal/layout/lmdb_error.hpp"

namespace annal::cli {

namespace fs = std::filesystem;

status copy_open_environment(void* handle, const fs::path& dest) {
  auto* env = static_cast<MDB_env*>(handle);
  std::error_code ec;
  fs::create_directories(dest, ec);
  if (ec)
    return make_error(errc::io_error, "cannot create " + dest.string() + ": " + ec.message());
  if (!fs::is_empty(dest, ec))
    return make_error(errc::bad_request, dest.string() + " is not empty");
  auto path = dest.string();
  for (int attempt = 0;; ++attempt) {
    int rc = mdb_env_copy2(env, path.c_str(), MDB_CP_COMPACT);
    if (rc == 0)
      return {};
    fs::remove(dest / "data.mdb", ec);
    // The writer grew the map past what this handle maps: adopt the size and go again.
    if (rc == MDB_MAP_RESIZED && attempt < 5 && mdb_env_set_mapsize(env, 0) == 0)
      continue;
    return layout::lmdb_error(rc, ("copy to " + path).c_str());
  }
}

status copy_environment(const fs::path& src, const char* must_have, const fs::path& dest) {
  MDB_env* env = nullptr;
  if (int rc = mdb_env_create(&env); rc != 0)
    return layout::lmdb_error(rc, "mdb_env_create");
  struct closer {
    MDB_env* e;
    ~closer() { mdb_env_close(e); }
  } close_env{env};
  mdb_env_set_maxdbs(env, 256);
  auto dir = src.string();
  if (int rc = mdb_env_open(env, dir.c_str(), MDB_RDONLY | MDB_NOTLS, 0644); rc != 0)
    return layout::lmdb_error(rc, ("cannot open " + dir).c_str());
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
  if (rc == MDB_MAP_RESIZED && mdb_env_set_mapsize(env, 0) == 0)
    rc = mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
  if (rc != 0)
    return layout::lmdb_error(rc, "begin read transaction");
  MDB_dbi dbi = 0;
  rc = mdb_dbi_open(txn, must_have, 0, &dbi);
  mdb_txn_abort(txn);
  if (rc == MDB_NOTFOUND)
    return make_error(errc::corrupt, dir + " is not an Annal store (no table '"
                                       + std::string{must_have} + "')");
  if (rc != 0)
    return layout::lmdb_error(rc, "open table");
  return copy_open_environment(env, dest);
}

} // namespace annal::cli
