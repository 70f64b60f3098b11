// Which journal a read-model store reflects. The journal gets a random id in its meta
// table when it is created; the read models record it (table annal.journal) when a
// runtime first opens them beside it. A read-model store of another journal, or one whose
// checkpoints lie beyond the journal's last position (the journal was deleted, emptied or
// restored from an older backup), would otherwise start silently and never apply the new
// journal's events: it is refused until it is rebuilt.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "annal/event_store.hpp"
#include "annal/read_model_store.hpp"
#include "byte_order.hpp"
#include "event_store_impl.hpp"
#include "lmdb_env.hpp"
#include "read_model_store_impl.hpp"

namespace annal {

using detail::as_val;
using detail::as_view;

namespace {

constexpr const char* binding_table = "annal.journal";
constexpr std::string_view id_key = "id";
constexpr std::string_view format_key = "format";

std::string rebuild_hint() {
  return "the read models must be rebuilt: stop the node, then run `annal rebuild --all`";
}

// Reads a journal_identity's id and format from `dbi` (the journal's meta table or the
// read models' annal.journal table), with the journal's or the read models' key names.
status read_identity(MDB_txn* txn, MDB_dbi dbi, std::string_view id_name,
                     std::string_view format_name, journal_identity& out, const char* what) {
  MDB_val k = as_val(id_name), v;
  int rc = mdb_get(txn, dbi, &k, &v);
  if (rc == MDB_NOTFOUND)
    return make_error(errc::corrupt, std::string{what} + " records no id");
  if (rc != 0)
    return detail::lmdb_error(rc, "read the journal id");
  out.id.assign(as_view(v));
  k = as_val(format_name);
  rc = mdb_get(txn, dbi, &k, &v);
  if (rc == MDB_NOTFOUND || (rc == 0 && v.mv_size != 4))
    return make_error(errc::corrupt, std::string{what} + " records no format version");
  if (rc != 0)
    return detail::lmdb_error(rc, "read the format version");
  out.format = detail::load_le<uint32_t>(static_cast<const char*>(v.mv_data));
  return {};
}

} // namespace

result<journal_identity> identity_of(event_store& journal) {
  journal_identity out;
  auto* env = static_cast<MDB_env*>(journal.native_handle());
  if (env == nullptr)
    return make_error(errc::bad_request, "only an LMDB journal has an identity to bind to");
  MDB_txn* txn = nullptr;
  int begun = mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
  // A running node grew the map since this process mapped it (verify beside a node):
  // adopt the new size and read again. Safe because no other transaction of this process
  // is open on the journal here (see the header: called at open and by tools).
  for (int attempt = 0; begun == MDB_MAP_RESIZED && attempt < 3; ++attempt)
    if (mdb_env_set_mapsize(env, 0) == 0)
      begun = mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
  if (begun != 0)
    return detail::lmdb_error(begun, "begin a read of the journal's meta table");
  MDB_dbi meta = 0;
  int rc = mdb_dbi_open(txn, "meta", 0, &meta);
  status ok = rc != 0 ? status{detail::lmdb_error(rc, "open the journal's meta table")}
                      : read_identity(txn, meta, "node_id", "format_version", out, "the journal");
  mdb_txn_abort(txn); // the handle was open before (event_store::open): it stays open
  if (!ok)
    return std::move(ok).error();
  auto head = journal.last_position();
  if (!head)
    return std::move(head).error();
  out.head = *head;
  return out;
}

result<std::optional<journal_identity>> read_model_store::bound_journal() const {
  std::lock_guard<std::mutex> guard{impl_->tables_mutex};
  auto dbi = impl_->env->open_table(binding_table, false);
  if (!dbi && dbi.error().code == errc::not_found)
    return std::optional<journal_identity>{};
  if (!dbi)
    return std::move(dbi).error();
  std::optional<journal_identity> out;
  auto ok = impl_->env->read([&](const detail::txn& t) -> status {
    journal_identity id;
    if (auto r = read_identity(t.get(), *dbi, id_key, format_key, id, "the read models' binding");
        !r)
      return r;
    out = std::move(id);
    return {};
  });
  if (!ok)
    return std::move(ok).error();
  return out;
}

namespace {

// Writes the binding to `journal` inside `t`.
status write_binding(detail::txn& t, const journal_identity& journal) {
  MDB_dbi dbi = 0;
  if (int rc = t.note(mdb_dbi_open(t.get(), binding_table, MDB_CREATE, &dbi)); rc != 0)
    return detail::lmdb_error(rc, "open table annal.journal");
  char fmt[4];
  detail::store_le<uint32_t>(fmt, journal.format);
  MDB_val k = as_val(id_key), v = as_val(journal.id);
  MDB_val fk = as_val(format_key), fv{4, fmt};
  if (int rc = t.put(dbi, k, v); rc != 0)
    return detail::lmdb_error(rc, "write the journal id");
  if (int rc = t.put(dbi, fk, fv); rc != 0)
    return detail::lmdb_error(rc, "write the journal format");
  return {};
}

} // namespace

status read_model_store::bind_journal(event_store& journal) {
  // Checkpoints first, then the journal's head: a projection only applies committed
  // events, so beside a running node a checkpoint read earlier can never pass a head read
  // later (read the other way round, verify saw projections "ahead" of the journal).
  auto all = checkpoints();
  if (!all)
    return std::move(all).error();
  auto j = identity_of(journal);
  if (!j)
    return std::move(j).error();
  auto bound = bound_journal();
  if (!bound)
    return std::move(bound).error();
  auto dir = options().dir.string();
  if (*bound && (*bound)->id != j->id)
    return make_error(errc::corrupt, dir + " holds the read models of journal " + (*bound)->id
                                       + ", but the journal beside it is journal " + j->id
                                       + " (was it deleted or replaced?); " + rebuild_hint());
  if (*bound && (*bound)->format > j->format)
    return make_error(errc::corrupt, dir + " reflects journal format "
                                       + std::to_string((*bound)->format)
                                       + ", newer than the journal's "
                                       + std::to_string(j->format) + "; " + rebuild_hint());
  auto ahead = std::max_element(all->begin(), all->end(),
                                [](const auto& a, const auto& b) { return a.second < b.second; });
  if (ahead != all->end() && ahead->second > j->head)
    return make_error(errc::corrupt, dir + ": checkpoint '" + ahead->first + "' is at position "
                                       + std::to_string(ahead->second)
                                       + ", beyond the journal's last position "
                                       + std::to_string(j->head)
                                       + " (was the journal deleted, emptied or restored from "
                                         "an older backup?); " + rebuild_hint());
  if ((*bound && (*bound)->format == j->format) || options().read_only)
    return {};
  // A new store, one written before read models recorded their journal, or a journal
  // upgraded in place to a newer format (same id, same positions).
  std::lock_guard<std::mutex> guard{impl_->tables_mutex};
  return impl_->env->write([&](detail::txn& t) { return write_binding(t, *j); });
}

status read_model_store::reset(event_store& journal) {
  auto j = identity_of(journal);
  if (!j)
    return std::move(j).error();
  std::lock_guard<std::mutex> guard{impl_->tables_mutex};
  return impl_->env->write([&](detail::txn& t) -> status {
    // The main table lists the named tables; read their names first (emptying a table
    // rewrites its record there).
    MDB_dbi main = 0;
    if (int rc = mdb_dbi_open(t.get(), nullptr, 0, &main); rc != 0)
      return detail::lmdb_error(rc, "open the main table");
    std::vector<std::string> names;
    {
      detail::cursor c{t, main};
      if (!c.ok())
        return detail::lmdb_error(c.rc(), "open cursor");
      MDB_val k, v;
      for (int rc = c.get(k, v, MDB_FIRST); rc == 0; rc = c.get(k, v, MDB_NEXT))
        names.emplace_back(as_view(k));
    }
    for (const auto& name : names) {
      MDB_dbi dbi = 0;
      if (int rc = mdb_dbi_open(t.get(), name.c_str(), 0, &dbi); rc != 0)
        return detail::lmdb_error(rc, ("open table " + name).c_str());
      if (int rc = t.note(mdb_drop(t.get(), dbi, 0)); rc != 0)
        return detail::lmdb_error(rc, ("empty table " + name).c_str());
    }
    return write_binding(t, *j);
  });
}

} // namespace annal
