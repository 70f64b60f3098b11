#include "journal_surgery.hpp"

#include <stdexcept>
#include <string>

#include "byte_order.hpp"

namespace annal::test {

namespace {

void check(int rc, const char* what) {
  if (rc != 0)
    throw std::runtime_error(std::string{what} + ": " + mdb_strerror(rc));
}

// Runs `fn(txn)` in a write transaction and commits it.
template <class F>
void in_write_txn(MDB_env* env, F&& fn) {
  MDB_txn* txn = nullptr;
  check(mdb_txn_begin(env, nullptr, 0, &txn), "begin");
  try {
    fn(txn);
  } catch (...) {
    mdb_txn_abort(txn);
    throw;
  }
  check(mdb_txn_commit(txn), "commit");
}

} // namespace

journal_surgery::journal_surgery(const std::filesystem::path& journal_dir) {
  check(mdb_env_create(&env_), "mdb_env_create");
  mdb_env_set_maxdbs(env_, 8);
  mdb_env_set_mapsize(env_, std::size_t{64} << 20);
  check(mdb_env_open(env_, journal_dir.string().c_str(), MDB_NOTLS, 0644), "mdb_env_open");
}

journal_surgery::~journal_surgery() {
  mdb_env_close(env_);
}

MDB_dbi journal_surgery::table(MDB_txn* txn, const char* name) {
  MDB_dbi dbi = 0;
  check(mdb_dbi_open(txn, name, 0, &dbi), name);
  return dbi;
}

void journal_surgery::flip_payload_byte(global_position position) {
  in_write_txn(env_, [&](MDB_txn* txn) {
    char key[8];
    detail::store_be64(key, position);
    MDB_val k{8, key}, v;
    auto events = table(txn, "events");
    check(mdb_get(txn, events, &k, &v), "get event");
    std::string bytes{static_cast<const char*>(v.mv_data), v.mv_size};
    bytes.back() = static_cast<char>(bytes.back() ^ 0x5a);
    MDB_val nv{bytes.size(), bytes.data()};
    check(mdb_put(txn, events, &k, &nv, 0), "put event");
  });
}

global_position journal_surgery::erase_index_run(std::string_view stream,
                                                 stream_version first_version) {
  global_position position = 0;
  in_write_txn(env_, [&](MDB_txn* txn) {
    auto key = detail::stream_key(stream, first_version);
    MDB_val k{key.size(), key.data()}, v;
    auto index = table(txn, "stream_index");
    check(mdb_get(txn, index, &k, &v), "get index entry");
    position = detail::load_be64(static_cast<const char*>(v.mv_data));
    check(mdb_del(txn, index, &k, nullptr), "delete index entry");
  });
  return position;
}

global_position journal_surgery::move_index_run(std::string_view stream,
                                                stream_version first_version,
                                                global_position first_position) {
  global_position before = 0;
  in_write_txn(env_, [&](MDB_txn* txn) {
    auto key = detail::stream_key(stream, first_version);
    MDB_val k{key.size(), key.data()}, v;
    auto index = table(txn, "stream_index");
    check(mdb_get(txn, index, &k, &v), "get index entry");
    std::string value{static_cast<const char*>(v.mv_data), v.mv_size};
    if (value.size() < 8)
      throw std::runtime_error("index value of " + std::to_string(value.size()) + " bytes");
    before = detail::load_be64(value.data());
    detail::store_be64(value.data(), first_position); // value = BE first position, BE count
    MDB_val nv{value.size(), value.data()};
    check(mdb_put(txn, index, &k, &nv, 0), "put index entry");
  });
  return before;
}

void journal_surgery::erase_event(global_position position) {
  in_write_txn(env_, [&](MDB_txn* txn) {
    char key[8];
    detail::store_be64(key, position);
    MDB_val k{8, key};
    check(mdb_del(txn, table(txn, "events"), &k, nullptr), "delete event");
  });
}

void journal_surgery::erase_trimmed_entry(std::string_view stream) {
  in_write_txn(env_, [&](MDB_txn* txn) {
    MDB_dbi dbi = table(txn, "trimmed_streams");
    MDB_cursor* c = nullptr;
    check(mdb_cursor_open(txn, dbi, &c), "open cursor");
    MDB_val k, v;
    int found = 0;
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
      if (std::string_view{static_cast<const char*>(k.mv_data), k.mv_size}.substr(2) == stream) {
        check(mdb_cursor_del(c, 0), "delete trimmed entry");
        ++found;
        break;
      }
    mdb_cursor_close(c);
    if (found == 0)
      throw std::runtime_error("no trimmed entry of " + std::string{stream});
  });
}

void journal_surgery::set_format_version(uint32_t version) {
  in_write_txn(env_, [&](MDB_txn* txn) {
    char v4[4];
    detail::store_le<uint32_t>(v4, version);
    std::string_view name = "format_version";
    MDB_val k{name.size(), const_cast<char*>(name.data())}, v{4, v4};
    check(mdb_put(txn, table(txn, "meta"), &k, &v, 0), "put format version");
  });
}

void journal_surgery::set_meta_value(std::string_view key, std::string_view value) {
  in_write_txn(env_, [&](MDB_txn* txn) {
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    MDB_val v{value.size(), const_cast<char*>(value.data())};
    check(mdb_put(txn, table(txn, "meta"), &k, &v, 0), "put meta record");
  });
}

std::string journal_surgery::meta_value(std::string_view key) {
  std::string out;
  in_write_txn(env_, [&](MDB_txn* txn) {
    MDB_val k{key.size(), const_cast<char*>(key.data())}, v;
    if (mdb_get(txn, table(txn, "meta"), &k, &v) == 0)
      out.assign(static_cast<const char*>(v.mv_data), v.mv_size);
  });
  return out;
}

} // namespace annal::test
