#include "lmdb_env.hpp"
#include "lmdb_file_check.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <system_error>

namespace annal::detail {

error lmdb_error(int rc, const char* what) {
  std::string msg = std::string{what} + ": " + mdb_strerror(rc);
  switch (rc) {
    case MDB_MAP_FULL:
    case ENOSPC:
    case EDQUOT:
      return make_error(errc::storage_full, std::move(msg));
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
      return make_error(errc::corrupt, std::move(msg));
    case MDB_READERS_FULL:
      return make_error(errc::overloaded, std::move(msg));
    default:
      return make_error(errc::io_error, std::move(msg));
  }
}

int txn::get(MDB_dbi dbi, MDB_val& key, MDB_val& value) const noexcept {
  return mdb_get(txn_, dbi, &key, &value);
}

int txn::put(MDB_dbi dbi, MDB_val& key, MDB_val& value, unsigned flags) noexcept {
  return note(mdb_put(txn_, dbi, &key, &value, flags));
}

int txn::del(MDB_dbi dbi, MDB_val& key) noexcept {
  return note(mdb_del(txn_, dbi, &key, nullptr));
}

int txn::note(int rc) noexcept {
  if (rc == MDB_MAP_FULL)
    map_full_ = true;
  return rc;
}

cursor::cursor(const txn& t, MDB_dbi dbi) noexcept {
  rc_ = mdb_cursor_open(t.get(), dbi, &cur_);
  if (rc_ != 0)
    cur_ = nullptr;
}

cursor::~cursor() {
  if (cur_ != nullptr)
    mdb_cursor_close(cur_);
}

int cursor::get(MDB_val& key, MDB_val& value, MDB_cursor_op op) noexcept {
  return mdb_cursor_get(cur_, &key, &value, op);
}

int cursor::del() noexcept {
  return mdb_cursor_del(cur_, 0);
}

namespace {

unsigned env_flags(const store_options& o) {
  // NOTLS: read transactions are not bound to threads (actors migrate between threads).
  // NORDAHEAD: random reads of a large journal should not pull in whole neighbourhoods.
  unsigned flags = MDB_NOTLS | MDB_NORDAHEAD;
  if (o.mode == durability::no_sync)
    flags |= MDB_NOSYNC;
  else if (!o.sync_meta)
    flags |= MDB_NOMETASYNC;
  if (o.read_only)
    flags |= MDB_RDONLY;
  return flags;
}

// The first name of `foreign` that is a table of the environment (its main database
// lists the named tables), or "".
std::string find_foreign_table(MDB_txn* txn, const std::vector<std::string>& foreign) {
  for (const auto& name : foreign) {
    MDB_dbi main = 0;
    if (mdb_dbi_open(txn, nullptr, 0, &main) != 0)
      return {};
    MDB_val k{name.size(), const_cast<char*>(name.data())}, v;
    if (mdb_get(txn, main, &k, &v) == 0)
      return name;
  }
  return {};
}

// True when the environment's main database is empty: no named table was ever committed.
bool holds_no_table(MDB_txn* txn) {
  MDB_dbi main = 0;
  MDB_stat st{};
  return mdb_dbi_open(txn, nullptr, 0, &main) == 0 && mdb_stat(txn, main, &st) == 0
         && st.ms_entries == 0;
}

} // namespace

result<MDB_dbi> lmdb_env::open_table(const std::string& name, bool create) {
  std::shared_lock<std::shared_mutex> guard{resize_mutex_};
  MDB_txn* raw = nullptr;
  bool write = create && !options_.read_only;
  if (int rc = begin(write ? 0 : MDB_RDONLY, &raw); rc != 0)
    return lmdb_error(rc, "begin transaction");
  MDB_dbi dbi = 0;
  int rc = mdb_dbi_open(raw, name.c_str(), write ? MDB_CREATE : 0, &dbi);
  if (rc != 0) {
    mdb_txn_abort(raw);
    if (rc == MDB_NOTFOUND)
      return make_error(errc::not_found, "no table '" + name + "'");
    if (rc == MDB_DBS_FULL)
      return make_error(errc::bad_request, "too many tables");
    if (rc == MDB_MAP_FULL)
      return make_error(errc::storage_full, "no room for table '" + name + "'");
    return lmdb_error(rc, "open table");
  }
  // Committing (even a read-only transaction) keeps the handle open for everyone;
  // aborting would close it.
  if (rc = mdb_txn_commit(raw); rc != 0)
    return lmdb_error(rc, "commit table open");
  return dbi;
}

result<std::unique_ptr<lmdb_env>> lmdb_env::open(const store_options& options,
                                                  const std::vector<std::string>& dbs,
                                                  unsigned extra_dbs,
                                                  const std::vector<std::string>& foreign) {
  std::unique_ptr<lmdb_env> env{new lmdb_env};
  env->options_ = options;
  std::error_code ec;
  if (options.read_only) {
    if (!std::filesystem::exists(options.dir / "data.mdb", ec))
      return make_error(errc::not_found, "no store at " + options.dir.string());
  } else {
    std::filesystem::create_directories(options.dir, ec);
    if (ec)
      return make_error(errc::io_error,
                        "cannot create " + options.dir.string() + ": " + ec.message());
  }
  if (int rc = mdb_env_create(&env->env_); rc != 0)
    return lmdb_error(rc, "mdb_env_create");
  mdb_env_set_maxdbs(env->env_, static_cast<MDB_dbi>(dbs.size() + extra_dbs));
  mdb_env_set_maxreaders(env->env_, options.max_readers);
  if (!options.read_only) {
    auto initial = std::min(options.initial_map_size, options.max_map_size);
    if (int rc = mdb_env_set_mapsize(env->env_, initial); rc != 0)
      return lmdb_error(rc, "mdb_env_set_mapsize");
  }
  auto dir = options.dir.string();
  if (int rc = mdb_env_open(env->env_, dir.c_str(), env_flags(options), 0644); rc != 0)
    return lmdb_error(rc, ("cannot open " + dir).c_str());
  if (auto checked = check_lmdb_file(env->env_, options.dir); !checked)
    return std::move(checked).error(); // damage: refused before LMDB walks a page
  // A map grown earlier (by us or another process) may be larger than the initial size.
  MDB_envinfo info;
  mdb_env_info(env->env_, &info);
  if (info.me_mapsize > options.initial_map_size && !options.read_only)
    mdb_env_set_mapsize(env->env_, info.me_mapsize);

  if (after_env_open_for_tests != nullptr)
    after_env_open_for_tests();
  MDB_txn* raw = nullptr;
  for (int attempt = 0;; ++attempt) {
    int rc = mdb_txn_begin(env->env_, nullptr, options.read_only ? MDB_RDONLY : 0, &raw);
    if (rc == 0)
      break;
    // Another process grew the map between mdb_env_open and here (a backup or a check
    // beside a busy node): adopt the new size, as every later transaction would.
    if (rc == MDB_MAP_RESIZED && attempt < 8 && mdb_env_set_mapsize(env->env_, 0) == 0)
      continue;
    return lmdb_error(rc, "begin open transaction");
  }
  if (auto clash = find_foreign_table(raw, foreign); !clash.empty()) {
    mdb_txn_abort(raw);
    return make_error(errc::corrupt, dir + " holds another kind of store (table '" + clash + "')");
  }
  for (const auto& name : dbs) {
    MDB_dbi dbi = 0;
    int rc = mdb_dbi_open(raw, name.c_str(), options.read_only ? 0 : MDB_CREATE, &dbi);
    if (rc != 0) {
      bool never_committed = rc == MDB_NOTFOUND && holds_no_table(raw);
      mdb_txn_abort(raw);
      if (never_committed) // created by a process killed before its first commit
        return make_error(errc::not_found, "no store at " + dir + " (created, never written)");
      if (rc == MDB_NOTFOUND)
        return make_error(errc::corrupt, dir + " is not an Annal store (no table '" + name + "')");
      return lmdb_error(rc, ("open table " + name).c_str());
    }
    env->dbis_.push_back(dbi);
  }
  if (int rc = mdb_txn_commit(raw); rc != 0)
    return lmdb_error(rc, "commit open transaction");
  return env;
}

lmdb_env::~lmdb_env() {
  if (env_ != nullptr)
    mdb_env_close(env_);
}

int lmdb_env::begin(unsigned flags, MDB_txn** out) {
  return mdb_txn_begin(env_, nullptr, flags, out);
}

void lmdb_env::adopt_external_resize() {
  std::unique_lock<std::shared_mutex> guard{resize_mutex_};
  mdb_env_set_mapsize(env_, 0);
}

bool lmdb_env::grow(std::size_t seen_size) {
  std::unique_lock<std::shared_mutex> guard{resize_mutex_};
  std::size_t current = map_size_unlocked();
  if (current > seen_size)
    return true; // another thread grew it meanwhile
  if (current >= options_.max_map_size)
    return false;
  // Doubling keeps the number of (exclusive) resizes logarithmic in the store's size;
  // the map is address space, the file only grows as pages are written.
  std::size_t next = std::min(options_.max_map_size, current * 2);
  if (mdb_env_set_mapsize(env_, next) == 0)
    return true;
  // A failed resize (no address space for the bigger map) leaves the environment
  // unmapped: map the old size again, or every later transaction would fault.
  (void)mdb_env_set_mapsize(env_, current);
  return false;
}

status lmdb_env::sync() {
  if (options_.read_only)
    return {};
  if (int rc = mdb_env_sync(env_, 1); rc != 0)
    return write_error(rc, "mdb_env_sync");
  return {};
}

error lmdb_env::write_error(int rc, const char* what) const {
  auto e = lmdb_error(rc, what);
  if (e.code == errc::storage_full || e.code == errc::corrupt)
    return e;
  // LMDB reports a short write (what a full disk gives at commit) as EIO, and a failed
  // write-back may surface as EIO at the sync: look at the disk before calling it an I/O
  // error. "Nearly full" leaves room for the pages the failed commit wanted to write.
  std::error_code ec;
  auto space = std::filesystem::space(options_.dir, ec);
  constexpr std::uintmax_t nearly_full = std::uintmax_t{8} << 20;
  if (!ec && space.available < nearly_full)
    return make_error(errc::storage_full, e.message + " (the disk holding " + options_.dir.string()
                                            + " has " + std::to_string(space.available)
                                            + " bytes free)");
  return e;
}

status lmdb_env::copy_to(const std::filesystem::path& dest) {
  std::error_code ec;
  std::filesystem::create_directories(dest, ec);
  if (ec)
    return make_error(errc::io_error, "cannot create " + dest.string() + ": " + ec.message());
  if (!std::filesystem::is_empty(dest, ec))
    return make_error(errc::bad_request, "backup folder " + dest.string() + " is not empty");
  auto path = dest.string();
  for (int attempt = 0; attempt < 3; ++attempt) {
    int rc;
    {
      // The copy runs a read transaction: it must not overlap a resize of our map.
      std::shared_lock<std::shared_mutex> guard{resize_mutex_};
      rc = mdb_env_copy2(env_, path.c_str(), MDB_CP_COMPACT);
    }
    if (rc == 0)
      return {};
    if (rc != MDB_MAP_RESIZED)
      return lmdb_error(rc, "mdb_env_copy2");
    adopt_external_resize();
    std::filesystem::remove(dest / "data.mdb", ec);
  }
  return make_error(errc::io_error, "mdb_env_copy2: the map kept growing during the copy");
}

std::size_t lmdb_env::map_size() const {
  std::shared_lock<std::shared_mutex> guard{resize_mutex_};
  return map_size_unlocked();
}

std::size_t lmdb_env::map_size_unlocked() const {
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  return info.me_mapsize;
}

} // namespace annal::detail
