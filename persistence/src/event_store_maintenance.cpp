// Stream truncation and deletion, statistics and online backup.
#include <sys/stat.h>

#include "annal/event_store.hpp"

#include "byte_order.hpp"
#include "event_store_impl.hpp"

namespace annal {

using detail::as_val;
using detail::as_view;

status event_store::impl::erase_events(detail::txn& t, std::string_view stream_id,
                                       stream_version through) {
  detail::cursor c{t, dbi(stream_index_table)};
  if (!c.ok())
    return detail::lmdb_error(c.rc(), "open cursor");
  auto start = detail::stream_key(stream_id, 1);
  MDB_val k = as_val(start), v;
  for (int rc = c.get(k, v, MDB_SET_RANGE); rc == 0; rc = c.get(k, v, MDB_NEXT)) {
    // (after mdb_cursor_del, MDB_NEXT yields the entry that followed the deleted one)
    stream_version version = 0;
    if (!detail::parse_stream_key(as_view(k), stream_id, version) || version > through)
      break;
    if (v.mv_size == 8) {
      char key[8]; // copied: v points into a page that the deletes below may change
      std::memcpy(key, v.mv_data, 8);
      MDB_val ek{8, key};
      if (int d = t.del(dbi(events_table), ek); d != 0 && d != MDB_NOTFOUND)
        return detail::lmdb_error(d, "delete event");
    }
    if (int d = t.note(c.del()); d != 0)
      return detail::lmdb_error(d, "delete index entry");
  }
  return {};
}

status event_store::truncate_stream(std::string_view stream_id, stream_version through) {
  if (auto ok = detail::validate_stream_id(stream_id); !ok)
    return ok;
  return impl_->env->write([&](detail::txn& t) -> status {
    stream_info s;
    if (auto ok = impl_->load_stream(t, stream_id, s); !ok)
      return ok;
    if (s.deleted)
      return make_error(errc::stream_deleted, "stream '" + s.stream_id + "' was deleted");
    auto upto = std::min(through, s.head);
    if (upto <= s.truncated_through)
      return {};
    if (auto ok = impl_->erase_events(t, stream_id, upto); !ok)
      return ok;
    s.truncated_through = upto;
    return impl_->store_stream(t, s);
  });
}

status event_store::delete_stream(std::string_view stream_id) {
  if (auto ok = detail::validate_stream_id(stream_id); !ok)
    return ok;
  return impl_->env->write([&](detail::txn& t) -> status {
    stream_info s;
    if (auto ok = impl_->load_stream(t, stream_id, s); !ok)
      return ok;
    if (s.deleted)
      return make_error(errc::stream_deleted, "stream '" + s.stream_id + "' was deleted");
    if (s.head == 0)
      return make_error(errc::not_found, "no stream '" + s.stream_id + "'");
    if (auto ok = impl_->erase_events(t, stream_id, s.head); !ok)
      return ok;
    auto snaps = impl_->erase_snapshots(t, stream_id, snapshot_bounds{});
    if (!snaps)
      return std::move(snaps).error();
    s.deleted = true;
    s.truncated_through = s.head;
    return impl_->store_stream(t, s);
  });
}

result<store_stats> event_store::stats() {
  return impl_->env->read([&](const detail::txn& t) -> result<store_stats> {
    store_stats out;
    MDB_stat st;
    if (mdb_stat(t.get(), impl_->dbi(events_table), &st) == 0)
      out.events = st.ms_entries;
    if (mdb_stat(t.get(), impl_->dbi(streams_table), &st) == 0)
      out.streams = st.ms_entries;
    if (mdb_stat(t.get(), impl_->dbi(snapshots_table), &st) == 0)
      out.snapshots = st.ms_entries;
    auto last = impl_->load_last_position(t);
    if (!last)
      return std::move(last).error();
    out.last_position = *last;
    MDB_envinfo info;
    MDB_stat env_st;
    mdb_env_info(impl_->env->native(), &info);
    mdb_env_stat(impl_->env->native(), &env_st);
    out.map_size = info.me_mapsize;
    out.map_used = (info.me_last_pgno + 1) * std::size_t{env_st.ms_psize};
    struct stat fs;
    auto file = (impl_->options().dir / "data.mdb").string();
    if (::stat(file.c_str(), &fs) == 0)
      out.file_size = static_cast<std::size_t>(fs.st_size);
    return out;
  });
}

status event_store::backup(const std::filesystem::path& dest) {
  std::error_code ec;
  std::filesystem::create_directories(dest, ec);
  if (ec)
    return make_error(errc::io_error, "cannot create " + dest.string() + ": " + ec.message());
  if (!std::filesystem::is_empty(dest, ec))
    return make_error(errc::bad_request, "backup folder " + dest.string() + " is not empty");
  auto path = dest.string();
  if (int rc = mdb_env_copy2(impl_->env->native(), path.c_str(), MDB_CP_COMPACT); rc != 0)
    return detail::lmdb_error(rc, "mdb_env_copy2");
  return {};
}

} // namespace annal
