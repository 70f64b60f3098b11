// Reads of one shard of the LMDB journal. There is no shard index: the read scans `events`
// after a resume hint and keeps the envelopes whose header names the shard (the payloads
// of other shards are not decoded, nor checksummed). See docs/architecture.md, "Shards and
// shard positions".
#include "annal/event_store.hpp"

#include "byte_order.hpp"
#include "envelope_codec.hpp"
#include "event_store_impl.hpp"
#include "shard.hpp"

namespace annal {

using detail::as_view;

namespace {

// The shard's head in `shards` (0 when it never had an event).
result<uint64_t> load_shard_head(const detail::txn& t, MDB_dbi shards, uint16_t shard) {
  char key[2];
  detail::store_be16(key, shard);
  MDB_val k{2, key}, v;
  int rc = t.get(shards, k, v);
  if (rc == MDB_NOTFOUND)
    return uint64_t{0};
  if (rc != 0)
    return detail::lmdb_error(rc, "read shard head");
  if (v.mv_size != 8)
    return make_error(errc::corrupt, "malformed shard head record");
  return detail::load_be64(static_cast<const char*>(v.mv_data));
}

} // namespace

uint16_t shard_of_stream(std::string_view stream_id, uint16_t shard_count) noexcept {
  return shard_count == 0 ? 0 : detail::shard_of(stream_id, shard_count);
}

result<shard_chunk> lmdb_event_store::read_shard(const shard_range& range) {
  if (!impl_->has_shards || impl_->shard_count == 0)
    return make_error(errc::bad_request, "this journal has no shards (format 2: upgrade it)");
  if (range.shard >= impl_->shard_count)
    return make_error(errc::bad_request, "shard " + std::to_string(range.shard)
                                           + " is out of range (the journal has "
                                           + std::to_string(impl_->shard_count) + ")");
  shard_chunk out;
  out.next_hint = range.from_position;
  auto ok = impl_->env->read([&](const detail::txn& t) -> status {
    auto head = load_shard_head(t, impl_->shards_dbi, range.shard);
    if (!head)
      return std::move(head).error();
    out.head = *head;
    if (range.after >= out.head) { // nothing newer exists: no scan
      out.at_end = true;
      return {};
    }
    if (range.max_count == 0 || range.from_position == std::numeric_limits<global_position>::max())
      return {};
    detail::cursor c{t, impl_->dbi(events_table)};
    if (!c.ok())
      return detail::lmdb_error(c.rc(), "open cursor");
    char key[8];
    detail::store_be64(key, range.from_position + 1);
    MDB_val k{8, key}, v;
    std::vector<event_view> kept;
    std::size_t bytes = 0;
    uint64_t scanned = 0;
    bool stopped = false;
    int rc = c.get(k, v, MDB_SET_RANGE);
    for (; rc == 0; rc = c.get(k, v, MDB_NEXT)) {
      if (k.mv_size != 8)
        continue;
      auto position = detail::load_be64(static_cast<const char*>(k.mv_data));
      out.next_hint = position;
      out.events.note_read(position);
      detail::shard_place place;
      if (detail::peek_shard(as_view(v), place) && place.shard == range.shard
          && place.position > range.after) {
        kept.emplace_back();
        detail::decode_envelope(position, as_view(v), kept.back());
        bytes += event_chunk::bytes_of(kept.back());
        // The shard's newest event: nothing of it can follow.
        if (place.position >= out.head) {
          out.at_end = true;
          break;
        }
        if (kept.size() >= range.max_count) {
          stopped = true;
          break;
        }
      }
      if (++scanned >= event_store::shard_scan_budget) {
        stopped = true;
        break;
      }
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
      return detail::lmdb_error(rc, "scan events");
    if (rc == MDB_NOTFOUND && !stopped)
      out.at_end = true;
    out.events.reserve(kept.size(), bytes);
    for (const auto& e : kept)
      out.events.keep(e);
    return {};
  });
  if (!ok)
    return std::move(ok).error();
  return out;
}

} // namespace annal
