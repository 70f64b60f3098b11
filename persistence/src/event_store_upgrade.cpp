// The upgrade of a journal from format 2 to format 3. Format 3 adds to each event its shard
// and shard position (a 54-byte envelope header instead of 44), the `shards` table and
// meta "shard_count" / "indexed_through"; the stream index keeps its layout.
//
// Crash safety: the first transaction switches meta "format_version" to 3 together with
// "shard_count", "indexed_through" (the format-2 index is complete) and "upgrade_through"
// = 0; each later transaction rewrites a batch of events in position order, their shard
// heads and "upgrade_through"; the last one removes "upgrade_through". A kill leaves either
// format 2 untouched (readable by the old build too) or format 3 with "upgrade_through"
// marking where the next open resumes. Envelopes carry their own format byte, so a store
// stopped half way reads correctly meanwhile (format-1 records read with shard 0). An old
// build refuses a format-3 store instead of misreading it.
#include <cstdlib>
#include <limits>

#include "byte_order.hpp"
#include "crash_point.hpp"
#include "envelope_codec.hpp"
#include "event_store_impl.hpp"
#include "meta_keys.hpp"
#include "shard.hpp"

namespace annal {

using detail::as_val;
using detail::as_view;

namespace {

constexpr std::size_t default_batch_events = 65536;

// Events per upgrade transaction; tests shrink it (ANNAL_JOURNAL_UPGRADE_BATCH) to kill an
// upgrade between two batches of a small store.
std::size_t batch_events() {
  const char* v = std::getenv("ANNAL_JOURNAL_UPGRADE_BATCH");
  auto n = v != nullptr ? std::strtoull(v, nullptr, 10) : 0;
  return n > 0 ? static_cast<std::size_t>(n) : default_batch_events;
}

int put_meta(detail::txn& t, MDB_dbi meta, std::string_view key, const char* bytes,
             std::size_t size) {
  MDB_val k = as_val(key), v{size, const_cast<char*>(bytes)};
  return t.put(meta, k, v);
}

// Where the upgrade stands: false when none is in progress (and none is needed).
struct upgrade_state {
  bool needed = false;
  bool started = false;
  global_position through = 0;
  uint16_t shard_count = 0;
};

result<upgrade_state> load_state(const detail::txn& t, MDB_dbi meta, uint16_t wanted_shards) {
  upgrade_state s;
  MDB_val k = as_val(meta_key::format), v;
  int rc = t.get(meta, k, v);
  if (rc != 0 || v.mv_size != 4)
    return make_error(errc::corrupt, "no journal format record");
  auto format = detail::load_le<uint32_t>(static_cast<const char*>(v.mv_data));
  if (format == journal_format_v2) {
    s.needed = true;
    s.shard_count = wanted_shards;
    return s;
  }
  MDB_val uk = as_val(meta_key::upgrade_through), uv;
  rc = t.get(meta, uk, uv);
  if (rc == MDB_NOTFOUND)
    return s;
  if (rc != 0 || uv.mv_size != 8)
    return make_error(errc::corrupt, "malformed upgrade_through record");
  s.needed = s.started = true;
  s.through = detail::load_be64(static_cast<const char*>(uv.mv_data));
  MDB_val sk = as_val(meta_key::shard_count), sv;
  if (t.get(meta, sk, sv) != 0 || sv.mv_size != 2)
    return make_error(errc::corrupt, "an upgrade in progress lacks its shard count");
  s.shard_count = detail::load_le<uint16_t>(static_cast<const char*>(sv.mv_data));
  return s;
}

} // namespace

status lmdb_event_store::impl::upgrade_format(
  const std::function<void(uint64_t, uint64_t)>& progress) {
  auto& s = *this;
  auto& lmdb = *s.env;
  MDB_dbi meta = s.dbi(meta_table), events = s.dbi(events_table);
  auto state = lmdb.read([&](const detail::txn& t) { return load_state(t, meta, s.options().shard_count); });
  if (!state)
    return std::move(state).error();
  if (!state->needed)
    return {};
  if (state->shard_count == 0)
    return make_error(errc::bad_request, "shard_count must be at least 1");
  uint64_t total = 0;
  {
    MDB_stat st;
    auto ok = lmdb.read([&](const detail::txn& t) -> status {
      if (int rc = mdb_stat(t.get(), events, &st); rc != 0)
        return detail::lmdb_error(rc, "mdb_stat");
      total = st.ms_entries;
      return {};
    });
    if (!ok)
      return ok;
  }
  if (!state->started) {
    auto ok = lmdb.write([&](detail::txn& t) -> status {
      auto last = s.load_last_position(t);
      if (!last)
        return std::move(last).error();
      char fmt[4], count[2], indexed[8], zero[8];
      detail::store_le<uint32_t>(fmt, journal_format_version);
      detail::store_le<uint16_t>(count, state->shard_count);
      detail::store_be64(indexed, *last);
      detail::store_be64(zero, 0);
      for (int rc : {put_meta(t, meta, meta_key::format, fmt, 4), put_meta(t, meta, meta_key::shard_count, count, 2),
                     put_meta(t, meta, meta_key::indexed_through, indexed, 8),
                     put_meta(t, meta, meta_key::upgrade_through, zero, 8)})
        if (rc != 0)
          return detail::lmdb_error(rc, "start the upgrade");
      return {};
    });
    if (!ok)
      return ok;
    detail::crash_point("upgrade.started");
  }
  uint16_t shards = state->shard_count;
  const std::size_t per_batch = batch_events();
  uint64_t done = 0;
  for (;;) {
    bool finished = false;
    uint64_t batch_done = 0;
    auto ok = lmdb.write([&](detail::txn& t) -> status {
      MDB_val uk = as_val(meta_key::upgrade_through), uv;
      if (int rc = t.get(meta, uk, uv); rc != 0 || uv.mv_size != 8)
        return make_error(errc::corrupt, "the upgrade lost its upgrade_through record");
      auto through = detail::load_be64(static_cast<const char*>(uv.mv_data));
      std::vector<uint64_t> heads(shards, 0);
      std::vector<uint8_t> state_of(shards, 0);
      // Rewritten records are collected first: writing through the scanning cursor's
      // table while it walks would move it.
      std::vector<std::pair<global_position, std::string>> rewritten;
      global_position last_seen = through;
      {
        detail::cursor c{t, events};
        if (!c.ok())
          return detail::lmdb_error(c.rc(), "open cursor");
        char key[8];
        detail::store_be64(key, through + 1);
        MDB_val k{8, key}, v;
        event_view e;
        for (int rc = c.get(k, v, MDB_SET_RANGE); rc == 0 && batch_done < per_batch;
             rc = c.get(k, v, MDB_NEXT)) {
          if (k.mv_size != 8)
            continue;
          auto position = detail::load_be64(static_cast<const char*>(k.mv_data));
          last_seen = position;
          ++batch_done;
          auto bytes = as_view(v);
          if (bytes.size() > 8 && static_cast<uint8_t>(bytes[8]) == detail::envelope_format)
            continue; // already rewritten (cannot happen after a clean batch; harmless)
          // A damaged record is left as it is: re-encoding would hide the damage.
          if (!detail::decode_envelope(position, bytes, e) || e.corrupt)
            continue;
          detail::shard_place place;
          place.shard = detail::shard_of(e.stream_id, shards);
          if (state_of[place.shard] == 0) {
            char sk[2];
            detail::store_be16(sk, place.shard);
            MDB_val skv{2, sk}, sv;
            int src = t.get(s.shards_dbi, skv, sv);
            heads[place.shard] = src == 0 && sv.mv_size == 8
                                   ? detail::load_be64(static_cast<const char*>(sv.mv_data))
                                   : 0;
          }
          state_of[place.shard] = 2;
          place.position = ++heads[place.shard];
          std::string out(detail::envelope_size(e), '\0');
          detail::encode_envelope(out.data(), e, place);
          rewritten.emplace_back(position, std::move(out));
        }
      }
      for (auto& [position, bytes] : rewritten) {
        char key[8];
        detail::store_be64(key, position);
        MDB_val k{8, key}, v = as_val(bytes);
        if (int rc = t.put(events, k, v); rc != 0)
          return detail::lmdb_error(rc, "rewrite event");
      }
      for (uint16_t shard = 0; shard < shards; ++shard) {
        if (state_of[shard] != 2)
          continue;
        char sk[2], sv[8];
        detail::store_be16(sk, shard);
        detail::store_be64(sv, heads[shard]);
        MDB_val k{2, sk}, v{8, sv};
        if (int rc = t.put(s.shards_dbi, k, v); rc != 0)
          return detail::lmdb_error(rc, "write shard head");
      }
      finished = batch_done < per_batch;
      if (finished) {
        MDB_val k = as_val(meta_key::upgrade_through);
        if (int rc = t.del(meta, k); rc != 0)
          return detail::lmdb_error(rc, "finish the upgrade");
        return {};
      }
      char mark[8];
      detail::store_be64(mark, last_seen);
      if (int rc = put_meta(t, meta, meta_key::upgrade_through, mark, 8); rc != 0)
        return detail::lmdb_error(rc, "write upgrade_through");
      return {};
    });
    if (!ok)
      return ok;
    done += batch_done;
    detail::crash_point("upgrade.batch");
    if (progress)
      progress(std::min(done, total), total);
    if (finished)
      return {};
  }
}

} // namespace annal
