// Stream truncation and deletion, statistics and online backup.
#include <sys/stat.h>

#include <set>

#include "annal/event_store.hpp"

#include "byte_order.hpp"
#include "event_store_impl.hpp"

namespace annal {

using detail::as_val;
using detail::as_view;

status lmdb_event_store::impl::load_stream_merged(const detail::txn& t, std::string_view stream_id,
                                             stream_info& out) const {
  if (auto ok = load_record(t, stream_id, out); !ok)
    return ok;
  detail::cursor c{t, dbi(stream_index_table)};
  if (!c.ok())
    return detail::lmdb_error(c.rc(), "open cursor");
  detail::index_run run;
  if (detail::seek_last_run(c, stream_id, run) && run.last_version() > out.head) {
    out.head = run.last_version();
    out.last_position = run.first_position + run.count - 1;
  }
  return {};
}

status lmdb_event_store::impl::erase_events(detail::txn& t, std::string_view stream_id,
                                       stream_version through) {
  // The deletion may remove the newest events: keep their position as a high-water mark so
  // that positions are never handed out twice.
  auto high_water = load_last_position(t);
  if (!high_water)
    return std::move(high_water).error();
  if (auto ok = store_last_position(t, *high_water); !ok)
    return ok;
  std::vector<detail::index_run> runs;
  {
    detail::cursor c{t, dbi(stream_index_table)};
    if (!c.ok())
      return detail::lmdb_error(c.rc(), "open cursor");
    auto start = detail::stream_key(stream_id, 1);
    MDB_val k = as_val(start), v;
    detail::index_run run;
    for (int rc = c.get(k, v, MDB_SET_RANGE);
         rc == 0 && detail::current_run(k, v, stream_id, run) && run.first_version <= through;
         rc = c.get(k, v, MDB_NEXT))
      runs.push_back(run);
  }
  char key[8];
  for (const auto& run : runs) {
    auto last = std::min(run.last_version(), through);
    for (auto ver = run.first_version; ver <= last; ++ver) {
      detail::store_be64(key, run.position_of(ver));
      MDB_val ek{8, key};
      if (int rc = t.del(dbi(events_table), ek); rc != 0 && rc != MDB_NOTFOUND)
        return detail::lmdb_error(rc, "delete event");
    }
    auto ik = detail::stream_key(stream_id, run.first_version);
    MDB_val ikv = as_val(ik);
    if (int rc = t.del(dbi(stream_index_table), ikv); rc != 0 && rc != MDB_NOTFOUND)
      return detail::lmdb_error(rc, "delete index entry");
    if (run.last_version() > through) {
      // The run straddles the truncation point: keep its tail under a new first version.
      auto rest_key = detail::stream_key(stream_id, through + 1);
      char rest[detail::index_value_size];
      detail::encode_index_value(rest, run.position_of(through + 1), run.last_version() - through);
      MDB_val rk = as_val(rest_key), rv{sizeof(rest), rest};
      if (int rc = t.put(dbi(stream_index_table), rk, rv); rc != 0)
        return detail::lmdb_error(rc, "rewrite index entry");
    }
  }
  return {};
}

status lmdb_event_store::impl::change_stream(
  std::string_view stream_id, const std::function<status(detail::txn&, stream_info&)>& change,
  bool import) {
  if (auto ok = detail::validate_stream_id(stream_id); !ok)
    return ok;
  std::lock_guard<std::mutex> guard{writer};
  // A shard moving away (or gone) is not this node's to change, as for appends.
  if (!import)
    if (auto ok = check_fence(stream_id); !ok)
      return ok;
  global_position merged = 0;
  auto done = env->write([&](detail::txn& t) -> status {
    detail::write_ctx ctx;
    if (auto ok = begin_write(t, ctx); !ok)
      return ok;
    if (auto ok = merge_into(t, ctx); !ok)
      return ok;
    merged = ctx.last;
    stream_info s;
    if (auto ok = load_stream_merged(t, stream_id, s); !ok)
      return ok;
    if (s.deleted && !import)
      return make_error(errc::stream_deleted, "stream '" + s.stream_id + "' was deleted");
    return change(t, s);
  });
  if (done)
    mem.drop_through(merged);
  return done;
}

status lmdb_event_store::truncate_stream(std::string_view stream_id, stream_version through) {
  return impl_->change_stream(stream_id, [&](detail::txn& t, stream_info& s) -> status {
    auto upto = std::min(through, s.head);
    if (upto <= s.truncated_through)
      return {};
    if (auto ok = impl_->erase_events(t, stream_id, upto); !ok)
      return ok;
    s.truncated_through = upto;
    return impl_->store_stream(t, s);
  });
}

status lmdb_event_store::import_stream_record(const stream_info& source) {
  return impl_->change_stream(
    source.stream_id,
    [&](detail::txn& t, stream_info& s) -> status {
      if (s.deleted || (!source.deleted && source.truncated_through <= s.truncated_through))
        return {};
      auto upto = source.deleted ? s.head : std::min(source.truncated_through, s.head);
      if (upto > s.truncated_through)
        if (auto ok = impl_->erase_events(t, source.stream_id, upto); !ok)
          return ok;
      if (source.deleted) {
        if (auto snaps = impl_->erase_snapshots(t, source.stream_id, snapshot_bounds{}); !snaps)
          return std::move(snaps).error();
        // The head as the old owner had it: the tombstone's version numbering stays whole.
        s.head = std::max(s.head, source.head);
        s.deleted = true;
        upto = s.head;
      }
      s.truncated_through = std::max(s.truncated_through, upto);
      return impl_->store_stream(t, s);
    },
    true);
}

status lmdb_event_store::delete_stream(std::string_view stream_id) {
  return impl_->change_stream(stream_id, [&](detail::txn& t, stream_info& s) -> status {
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

result<store_stats> lmdb_event_store::stats() {
  return impl_->read_indexed([&](const detail::txn& t, detail::read_marks& m,
                                 bool& stale) -> result<store_stats> {
    store_stats out;
    MDB_stat st;
    if (mdb_stat(t.get(), impl_->dbi(events_table), &st) == 0)
      out.events = st.ms_entries;
    if (mdb_stat(t.get(), impl_->dbi(streams_table), &st) == 0)
      out.streams = st.ms_entries;
    // Streams born since the last merge have no record yet.
    std::set<std::string> born;
    if (auto ok = impl_->tail_stream_ids(t, m, "", born, stale); !ok || stale)
      return ok ? result<store_stats>{out} : result<store_stats>{std::move(ok).error()};
    std::vector<detail::index_run> tail;
    for (const auto& id : born) {
      bool exists = false;
      stream_info s;
      if (auto ok = impl_->load_record(t, id, s, &exists); !ok)
        return std::move(ok).error();
      if (exists)
        continue;
      if (auto ok = impl_->tail_runs(t, m, id, tail, stale); !ok)
        return std::move(ok).error();
      if (stale)
        return out;
      out.streams += tail.empty() ? 0 : 1;
    }
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

status lmdb_event_store::backup(const std::filesystem::path& dest) {
  // Merged first, so that the copy opens without re-indexing a tail (it would anyway).
  if (auto ok = merge_index(); !ok)
    return ok;
  return impl_->env->copy_to(dest);
}

} // namespace annal
