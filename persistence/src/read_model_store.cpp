#include "annal/read_model_store.hpp"

#include "byte_order.hpp"
#include "event_store_impl.hpp"
#include "lmdb_env.hpp"
#include "read_model_store_impl.hpp"

namespace annal {

using detail::as_val;
using detail::as_view;

namespace {

constexpr unsigned max_tables = 250;

MDB_txn* native(void* t) {
  return static_cast<MDB_txn*>(t);
}

status check_key(std::string_view key) {
  if (key.empty() || key.size() > 511)
    return make_error(errc::bad_request, "read-model keys must be 1..511 bytes");
  return {};
}

} // namespace

// -- read_model_txn ---------------------------------------------------------------------------

result<std::optional<std::string_view>> read_model_txn::get(table_id table,
                                                            std::string_view key) const {
  if (auto ok = check_key(key); !ok)
    return std::move(ok).error();
  MDB_val k = as_val(key), v;
  int rc = mdb_get(native(txn_), table, &k, &v);
  if (rc == MDB_NOTFOUND)
    return std::optional<std::string_view>{};
  if (rc != 0)
    return detail::lmdb_error(rc, "read-model get");
  return std::optional<std::string_view>{as_view(v)};
}

status read_model_txn::put(table_id table, std::string_view key, std::string_view value) {
  if (!writable_)
    return make_error(errc::bad_request, "put inside a read transaction");
  if (auto ok = check_key(key); !ok)
    return ok;
  MDB_val k = as_val(key), v = as_val(value);
  int rc = mdb_put(native(txn_), table, &k, &v, 0);
  if (rc == MDB_MAP_FULL)
    *map_full_ = true;
  if (rc != 0)
    return detail::lmdb_error(rc, "read-model put");
  return {};
}

status read_model_txn::erase(table_id table, std::string_view key) {
  if (!writable_)
    return make_error(errc::bad_request, "erase inside a read transaction");
  if (auto ok = check_key(key); !ok)
    return ok;
  MDB_val k = as_val(key);
  int rc = mdb_del(native(txn_), table, &k, nullptr);
  if (rc == MDB_MAP_FULL)
    *map_full_ = true;
  if (rc != 0 && rc != MDB_NOTFOUND)
    return detail::lmdb_error(rc, "read-model erase");
  return {};
}

status read_model_txn::scan(table_id table, std::string_view prefix,
                            const std::function<bool(std::string_view, std::string_view)>& fn,
                            std::string_view after) const {
  MDB_cursor* c = nullptr;
  if (int rc = mdb_cursor_open(native(txn_), table, &c); rc != 0)
    return detail::lmdb_error(rc, "open cursor");
  std::string_view start = after.empty() || after < prefix ? prefix : after;
  MDB_val k = as_val(start), v;
  int rc = mdb_cursor_get(c, &k, &v, start.empty() ? MDB_FIRST : MDB_SET_RANGE);
  for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    auto key = as_view(k);
    if (key.compare(0, prefix.size(), prefix) != 0)
      break;
    if (!after.empty() && key <= after)
      continue;
    if (!fn(key, as_view(v)))
      break;
  }
  mdb_cursor_close(c);
  if (rc != 0 && rc != MDB_NOTFOUND)
    return detail::lmdb_error(rc, "read-model scan");
  return {};
}

status read_model_txn::clear(table_id table) {
  if (!writable_)
    return make_error(errc::bad_request, "clear inside a read transaction");
  int rc = mdb_drop(native(txn_), table, 0);
  if (rc == MDB_MAP_FULL)
    *map_full_ = true;
  if (rc != 0)
    return detail::lmdb_error(rc, "clear read-model table");
  return {};
}

result<global_position> read_model_txn::checkpoint(std::string_view name) const {
  auto v = get(checkpoints_, name);
  if (!v)
    return std::move(v).error();
  if (!*v)
    return global_position{0};
  if ((*v)->size() != 8)
    return make_error(errc::corrupt, "malformed checkpoint '" + std::string{name} + "'");
  return detail::load_be64((*v)->data());
}

status read_model_txn::save_checkpoint(std::string_view name, global_position position) {
  char buf[8];
  detail::store_be64(buf, position);
  return put(checkpoints_, name, std::string_view{buf, 8});
}

// -- read_model_store -------------------------------------------------------------------------

read_model_store::read_model_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
read_model_store::~read_model_store() = default;

result<std::unique_ptr<read_model_store>> read_model_store::open(const store_options& options) {
  auto env = detail::lmdb_env::open(options, {"checkpoints"}, max_tables,
                                    {"events", "stream_index", "streams", "snapshots"});
  if (!env)
    return std::move(env).error();
  auto p = std::make_unique<impl>();
  p->env = std::move(*env);
  p->writes = std::make_unique<detail::write_group>(*p->env);
  return std::unique_ptr<read_model_store>{new read_model_store(std::move(p))};
}

result<table_id> read_model_store::table(const std::string& name) {
  if (name.empty() || name == "checkpoints")
    return make_error(errc::bad_request, "invalid read-model table name '" + name + "'");
  std::lock_guard<std::mutex> guard{impl_->tables_mutex};
  auto dbi = impl_->env->open_table(name, !impl_->env->options().read_only);
  if (!dbi)
    return std::move(dbi).error();
  return table_id{*dbi};
}

status read_model_store::write(const std::function<status(read_model_txn&)>& fn) {
  if (impl_->env->options().read_only)
    return make_error(errc::bad_request, "the store is open read-only");
  // Projections commit concurrently: one transaction (one pair of syncs) serves all of them.
  return impl_->writes->run([&](MDB_txn* t, bool& map_full) -> status {
    read_model_txn rt{t, impl_->checkpoints(), true, &map_full};
    return fn(rt);
  });
}

status read_model_store::read(const std::function<status(const read_model_txn&)>& fn) const {
  return impl_->env->read([&](const detail::txn& t) -> status {
    read_model_txn rt{t.get(), impl_->checkpoints(), false, nullptr};
    return fn(rt);
  });
}

status read_model_store::clear(table_id table) {
  return write([&](read_model_txn& t) { return t.clear(table); });
}

result<global_position> read_model_store::load_checkpoint(std::string_view name) const {
  auto found = find_checkpoint(name);
  if (!found)
    return std::move(found).error();
  return found->value_or(0);
}

result<std::optional<global_position>>
read_model_store::find_checkpoint(std::string_view name) const {
  std::optional<global_position> out;
  auto ok = read([&](const read_model_txn& t) -> status {
    auto v = t.get(t.checkpoints_, name);
    if (!v)
      return std::move(v).error();
    if (!*v)
      return {};
    auto p = t.checkpoint(name);
    if (!p)
      return std::move(p).error();
    out = *p;
    return {};
  });
  if (!ok)
    return std::move(ok).error();
  return out;
}

status read_model_store::save_checkpoint(std::string_view name, global_position position) {
  return write([&](read_model_txn& t) { return t.save_checkpoint(name, position); });
}

status read_model_store::remove_checkpoint(std::string_view name) {
  return write([&](read_model_txn& t) { return t.erase(impl_->checkpoints(), name); });
}

result<std::vector<std::pair<std::string, global_position>>> read_model_store::checkpoints() const {
  std::vector<std::pair<std::string, global_position>> out;
  auto ok = read([&](const read_model_txn& t) {
    return t.scan(impl_->checkpoints(), "", [&](std::string_view k, std::string_view v) {
      if (v.size() == 8)
        out.emplace_back(std::string{k}, detail::load_be64(v.data()));
      return true;
    });
  });
  if (!ok)
    return std::move(ok).error();
  return out;
}

status read_model_store::flush() {
  return impl_->env->sync();
}

duration_histogram::counts read_model_store::commit_durations() const noexcept {
  return impl_->writes->commit_durations().read();
}

status read_model_store::backup(const std::filesystem::path& dest) {
  return impl_->env->copy_to(dest);
}

void* read_model_store::native_handle() noexcept {
  return impl_->env->native();
}

const store_options& read_model_store::options() const noexcept {
  return impl_->env->options();
}

} // namespace annal
