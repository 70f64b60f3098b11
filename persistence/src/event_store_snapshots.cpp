// Snapshot storage: the `snapshots` table keyed by (stream, version), newest K kept.
#include "annal/event_store.hpp"

#include "byte_order.hpp"
#include "event_store_impl.hpp"
#include "snapshot_codec.hpp"

namespace annal {

using detail::as_val;
using detail::as_view;

namespace {

status validate_snapshot(const snapshot_record& s, const store_options& o) {
  if (auto ok = detail::validate_stream_id(s.stream_id); !ok)
    return ok;
  if (s.version == 0)
    return make_error(errc::bad_request, "a snapshot needs a stream version >= 1");
  if (s.type.empty() || s.type.size() > 255)
    return make_error(errc::bad_request, "snapshot type name must be 1..255 bytes");
  if (s.state.size() > o.max_payload_size)
    return make_error(errc::bad_request, "snapshot of " + std::to_string(s.state.size())
                                           + " bytes exceeds the payload limit");
  return {};
}

// Visits the snapshot keys of `stream_id` from newest to oldest; `fn(version, value)`
// returns false to stop.
template <class F>
int walk_newest_first(detail::cursor& c, std::string_view stream_id, F&& fn) {
  auto upper = detail::stream_key(stream_id, std::numeric_limits<uint64_t>::max());
  MDB_val k = as_val(upper), v;
  int rc = c.get(k, v, MDB_SET_RANGE);
  rc = c.get(k, v, rc == 0 ? MDB_PREV : MDB_LAST);
  for (; rc == 0; rc = c.get(k, v, MDB_PREV)) {
    stream_version version = 0;
    if (!detail::parse_stream_key(as_view(k), stream_id, version))
      return MDB_NOTFOUND;
    if (!fn(version, as_view(v)))
      return 0;
  }
  return rc;
}

} // namespace

status lmdb_event_store::impl::put_snapshot(detail::txn& t, const snapshot_record& s) {
  if (auto ok = validate_snapshot(s, options()); !ok)
    return ok;
  snapshot_record stamped = s;
  if (stamped.timestamp == 0)
    stamped.timestamp = now_ns();
  auto key = detail::stream_key(s.stream_id, s.version);
  auto value = detail::encode_snapshot(stamped);
  MDB_val k = as_val(key), v = as_val(value);
  if (int rc = t.put(dbi(snapshots_table), k, v); rc != 0)
    return detail::lmdb_error(rc, "write snapshot");
  auto keep = options().snapshots_to_keep;
  if (keep == 0)
    return {};
  stream_version oldest_kept = 0;
  {
    detail::cursor c{t, dbi(snapshots_table)};
    if (!c.ok())
      return detail::lmdb_error(c.rc(), "open cursor");
    std::size_t seen = 0;
    walk_newest_first(c, s.stream_id, [&](stream_version version, std::string_view) {
      if (++seen < keep)
        return true;
      oldest_kept = version;
      return false;
    });
  }
  if (oldest_kept <= 1)
    return {};
  snapshot_bounds older;
  older.max_version = oldest_kept - 1;
  auto erased = erase_snapshots(t, s.stream_id, older);
  if (!erased)
    return std::move(erased).error();
  return {};
}

status lmdb_event_store::save_snapshot(snapshot_record snapshot) {
  return impl_->env->write([&](detail::txn& t) { return impl_->put_snapshot(t, snapshot); });
}

result<std::optional<snapshot_record>> lmdb_event_store::load_snapshot(std::string_view stream_id,
                                                                  snapshot_bounds bounds) {
  if (auto ok = detail::validate_stream_id(stream_id); !ok)
    return std::move(ok).error();
  using out_type = std::optional<snapshot_record>;
  return impl_->env->read([&](const detail::txn& t) -> result<out_type> {
    detail::cursor c{t, impl_->dbi(snapshots_table)};
    if (!c.ok())
      return detail::lmdb_error(c.rc(), "open cursor");
    out_type found;
    bool damaged = false;
    walk_newest_first(c, stream_id, [&](stream_version version, std::string_view bytes) {
      if (version > bounds.max_version)
        return true;
      if (version < bounds.min_version)
        return false;
      if (!bounds.contains(version, detail::snapshot_timestamp(bytes)))
        return true;
      snapshot_record s;
      if (!detail::decode_snapshot(stream_id, version, bytes, s)) {
        damaged = true;
        return false;
      }
      found = std::move(s);
      return false;
    });
    if (damaged)
      return make_error(errc::corrupt, "the newest snapshot of '" + std::string{stream_id}
                                         + "' within the bounds is damaged");
    return found;
  });
}

status lmdb_event_store::delete_snapshot(std::string_view stream_id, stream_version version) {
  snapshot_bounds b;
  b.min_version = b.max_version = version;
  auto r = delete_snapshots(stream_id, b);
  if (!r)
    return std::move(r).error();
  return {};
}

result<uint64_t> lmdb_event_store::impl::erase_snapshots(detail::txn& t, std::string_view stream_id,
                                                    const snapshot_bounds& bounds) {
  std::vector<stream_version> doomed;
  {
    detail::cursor c{t, dbi(snapshots_table)};
    if (!c.ok())
      return detail::lmdb_error(c.rc(), "open cursor");
    walk_newest_first(c, stream_id, [&](stream_version version, std::string_view bytes) {
      if (bounds.contains(version, detail::snapshot_timestamp(bytes)))
        doomed.push_back(version);
      return version > bounds.min_version;
    });
  }
  for (auto version : doomed) {
    auto key = detail::stream_key(stream_id, version);
    MDB_val k = as_val(key);
    if (int rc = t.del(dbi(snapshots_table), k); rc != 0 && rc != MDB_NOTFOUND)
      return detail::lmdb_error(rc, "delete snapshot");
  }
  return uint64_t{doomed.size()};
}

result<uint64_t> lmdb_event_store::delete_snapshots(std::string_view stream_id,
                                               snapshot_bounds bounds) {
  if (auto ok = detail::validate_stream_id(stream_id); !ok)
    return std::move(ok).error();
  return impl_->env->write(
    [&](detail::txn& t) { return impl_->erase_snapshots(t, stream_id, bounds); });
}

} // namespace annal
