// The index of deleted and truncated streams by shard (table `trimmed_streams`): what a
// shard move must copy besides the shard's events. Without it the move lists the whole
// `streams` table, once before and once inside its pause, and that grows with every stream
// the node ever had (2.3 s per pass at 382 k streams, measured in stop 27's cluster soak).
//
// Key: u16 shard (big-endian) + stream id; value: empty. The record itself stays in
// `streams`; an entry is written in the transaction that writes a deleted or truncated
// record, and a stream never stops being deleted or truncated, so entries are never removed.
#include "annal/event_store.hpp"

#include "annal/layout/trimmed_key.hpp"
#include "byte_order.hpp"
#include "event_store_impl.hpp"
#include "meta_keys.hpp"
#include "stream_record.hpp"

namespace annal {

using detail::as_val;
using detail::as_view;

using layout::trimmed_key;

status lmdb_event_store::impl::note_trimmed(detail::txn& t, const stream_info& s) {
  if (!has_trimmed || shard_count == 0 || !(s.deleted || s.truncated_through > 0))
    return {};
  auto key = trimmed_key(shard_of_stream(s.stream_id, shard_count), s.stream_id);
  MDB_val k = as_val(key), v{0, nullptr};
  if (int rc = t.put(trimmed_dbi, k, v); rc != 0)
    return detail::lmdb_error(rc, "write trimmed stream entry");
  return {};
}

status lmdb_event_store::impl::open_trimmed_index() {
  bool writable = !options().read_only;
  auto table = env->open_table("trimmed_streams", writable);
  if (!table) {
    if (!writable && table.error().code == errc::not_found)
      return {}; // an older journal read as it is: list_trimmed_streams scans `streams`
    return std::move(table).error();
  }
  trimmed_dbi = *table;
  auto complete = env->read([&](const detail::txn& t) -> result<bool> {
    MDB_val k = as_val(meta_key::trimmed_indexed), v;
    int rc = t.get(dbi(meta_table), k, v);
    if (rc != 0 && rc != MDB_NOTFOUND)
      return detail::lmdb_error(rc, "read trimmed_indexed");
    return rc == 0;
  });
  if (!complete)
    return std::move(complete).error();
  if (*complete || !writable || shard_count == 0) {
    has_trimmed = *complete;
    return {};
  }
  // A journal from before the index: one pass over its records, with the mark that makes
  // it the last (a crash before the commit leaves neither).
  auto filled = env->write([&](detail::txn& t) -> status {
    has_trimmed = true; // for note_trimmed below; reset when the write fails
    detail::cursor c{t, dbi(streams_table)};
    if (!c.ok())
      return detail::lmdb_error(c.rc(), "open cursor");
    MDB_val k, v;
    for (int crc = c.get(k, v, MDB_FIRST); crc == 0; crc = c.get(k, v, MDB_NEXT)) {
      stream_info s;
      s.stream_id.assign(as_view(k));
      if (!detail::decode_stream_record(as_view(v), s))
        continue; // damage: reads of that stream and `annal verify` report it, not the open
      if (auto ok = note_trimmed(t, s); !ok)
        return ok;
    }
    MDB_val mk = as_val(meta_key::trimmed_indexed), mv{0, nullptr};
    if (int prc = t.put(dbi(meta_table), mk, mv); prc != 0)
      return detail::lmdb_error(prc, "write trimmed_indexed");
    return {};
  });
  has_trimmed = static_cast<bool>(filled);
  return filled;
}

result<std::vector<stream_info>> lmdb_event_store::list_trimmed_streams(uint16_t shard_count,
                                                                        uint16_t shard,
                                                                        std::string_view after,
                                                                        uint64_t limit) {
  auto& p = *impl_;
  if (!p.has_trimmed || shard_count != p.shard_count)
    return event_store::list_trimmed_streams(shard_count, shard, after, limit);
  if (shard >= shard_count)
    return make_error(errc::bad_request, "shard " + std::to_string(shard) + " is out of range");
  using out_type = result<std::vector<stream_info>>;
  auto prefix = trimmed_key(shard, {});
  return p.read_indexed([&](const detail::txn& t, detail::read_marks& m, bool& stale) -> out_type {
    std::vector<stream_info> out;
    std::vector<detail::index_run> tail;
    detail::cursor c{t, p.trimmed_dbi};
    detail::cursor index{t, p.dbi(stream_index_table)};
    if (!c.ok() || !index.ok())
      return detail::lmdb_error(c.ok() ? index.rc() : c.rc(), "open cursor");
    auto start = trimmed_key(shard, after);
    MDB_val k = as_val(start), v;
    for (int rc = c.get(k, v, MDB_SET_RANGE); rc == 0 && out.size() < limit; rc = c.get(k, v, MDB_NEXT)) {
      auto key = as_view(k);
      if (key.compare(0, 2, prefix) != 0)
        break;
      auto id = key.substr(2);
      if (!after.empty() && id <= after)
        continue;
      stream_info s;
      if (auto ok = p.load_stream(t, m, id, s, tail, stale, &index, detail::tail_wanted::newest_run); !ok)
        return std::move(ok).error();
      if (stale)
        return out;
      out.push_back(std::move(s));
    }
    return out;
  });
}

} // namespace annal
