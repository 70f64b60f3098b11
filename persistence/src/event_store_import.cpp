// Shards moving between nodes, on the LMDB journal: fences (appends to a shard refused
// while it moves) and the import of a shard's events copied from its previous owner, with
// their shard positions and stream versions kept and new node positions. See
// docs/architecture.md, "Shard moves".
#include "annal/event_store.hpp"

#include <unordered_map>

#include "byte_order.hpp"
#include "envelope_codec.hpp"
#include "event_store_impl.hpp"
#include "shard.hpp"

namespace annal {

status lmdb_event_store::impl::check_fence(std::string_view stream_id) const {
  if (fenced.empty() || shard_count == 0)
    return {};
  auto shard = detail::shard_of(stream_id, shard_count);
  if (!fenced[shard])
    return {};
  return make_error(errc::unavailable, "shard " + std::to_string(shard)
                                         + " is fenced (moving to another node); retry later");
}

status lmdb_event_store::fence_shard(uint16_t shard, bool on) {
  auto& p = *impl_;
  if (p.shard_count == 0 || shard >= p.shard_count)
    return make_error(errc::bad_request, "shard " + std::to_string(shard) + " is out of range");
  // Under the writer mutex: a commit in progress ends before the fence is up, and every
  // later write transaction sees it.
  std::lock_guard<std::mutex> guard{p.writer};
  if (p.fenced.empty())
    p.fenced.assign(p.shard_count, false);
  p.fenced[shard] = on;
  return {};
}

bool lmdb_event_store::shard_fenced(uint16_t shard) const {
  auto& p = *impl_;
  std::lock_guard<std::mutex> guard{p.writer};
  return shard < p.fenced.size() && p.fenced[shard];
}

namespace {

// What the import knows of one stream while writing a chunk.
struct imported_stream {
  stream_info record;
  bool exists = false;       // a record was stored before this import
  bool record_dirty = false; // the record must be written (new stream, or a truncation mark)
  stream_version head = 0;   // the newest version here, including this chunk's
};

} // namespace

result<import_outcome> lmdb_event_store::import_shard(const shard_import& chunk) {
  auto& p = *impl_;
  if (p.options().read_only)
    return make_error(errc::bad_request, "the store is open read-only");
  if (auto ok = detail::validate_import(chunk, p.shard_count, p.options()); !ok)
    return std::move(ok).error();
  std::lock_guard<std::mutex> guard{p.writer};
  detail::write_ctx done;
  import_outcome out;
  auto written = p.env->write([&](detail::txn& t) -> status {
    out = import_outcome{};
    detail::write_ctx ctx;
    if (auto ok = p.begin_write(t, ctx); !ok)
      return ok;
    detail::cursor index{t, p.dbi(stream_index_table)};
    if (!index.ok())
      return detail::lmdb_error(index.rc(), "open cursor");
    char key[2];
    detail::store_be16(key, chunk.shard);
    MDB_val hk{2, key}, hv;
    int rc = t.get(p.shards_dbi, hk, hv);
    if (rc != 0 && rc != MDB_NOTFOUND)
      return detail::lmdb_error(rc, "read shard head");
    uint64_t head = rc == 0 && hv.mv_size == 8 ? detail::load_be64(static_cast<const char*>(hv.mv_data)) : 0;
    std::unordered_map<std::string, imported_stream> streams;
    std::string buf;
    for (const auto& e : chunk.events) {
      if (e.shard_position <= head) {
        ++out.skipped;
        continue;
      }
      auto [it, fresh] = streams.try_emplace(e.stream_id);
      auto& s = it->second;
      if (fresh) {
        if (auto ok = p.load_record(t, e.stream_id, s.record, &s.exists); !ok)
          return ok;
        if (s.record.deleted)
          return make_error(errc::stream_deleted, "stream '" + e.stream_id + "' was deleted here");
        detail::index_run newest;
        if (s.exists && (p.mem.newest(e.stream_id, newest)
                         || detail::seek_last_run(index, e.stream_id, newest)))
          s.head = std::max(s.record.head, newest.last_version());
        else
          s.head = s.record.head;
        s.record_dirty = !s.exists;
      }
      if (e.version <= s.head)
        return make_error(errc::conflict, "stream '" + e.stream_id + "' is at version "
                                            + std::to_string(s.head) + " here; the copy's event has version "
                                            + std::to_string(e.version) + ": the histories differ");
      if (e.version > s.head + 1) {
        if (s.exists || s.head > 0)
          return make_error(errc::conflict, "stream '" + e.stream_id + "' would skip from version "
                                              + std::to_string(s.head) + " to "
                                              + std::to_string(e.version) + ": the histories differ");
        // The source truncated the stream's first versions: so is its copy here.
        s.record.truncated_through = e.version - 1;
        s.record.head = e.version - 1;
      }
      auto position = ++ctx.last;
      auto view = e.view();
      view.position = position;
      view.imported = true;
      detail::shard_place place{chunk.shard, e.shard_position};
      char pos_key[8];
      detail::store_be64(pos_key, position);
      MDB_val pk{8, pos_key}, v{detail::envelope_size(view), nullptr};
      if (int wrc = t.put(p.dbi(events_table), pk, v, MDB_APPEND | MDB_RESERVE); wrc != 0)
        return detail::lmdb_error(wrc, "write event");
      detail::encode_envelope(static_cast<char*>(v.mv_data), view, place);
      // Consecutive versions at consecutive positions extend the stream's last run.
      auto [n, added] = ctx.newest.try_emplace(e.stream_id, ctx.runs.size());
      auto* run = added ? nullptr : &ctx.runs[n->second].second;
      if (run != nullptr && run->last_version() + 1 == e.version
          && run->first_position + run->count == position) {
        ++run->count;
      } else {
        n->second = ctx.runs.size();
        ctx.runs.emplace_back(e.stream_id, detail::index_run{e.version, position, 1});
      }
      s.head = e.version;
      head = e.shard_position;
      ++out.imported;
      if (out.first_position == 0)
        out.first_position = position;
      out.last_position = position;
    }
    head = std::max(head, chunk.source_head);
    if (out.imported > 0 || chunk.source_head > 0) {
      ctx.shard_heads[chunk.shard] = head;
      ctx.shard_state[chunk.shard] = 2;
    }
    out.head = head;
    for (auto& [id, s] : streams)
      if (s.record_dirty)
        if (auto ok = p.store_stream(t, s.record); !ok)
          return ok;
    if (auto ok = p.finish_write(t, ctx); !ok)
      return ok;
    done = std::move(ctx);
    return {};
  });
  if (!written)
    return std::move(written).error();
  p.published(done);
  (void)p.merge_if_full(); // a failed merge leaves the runs in memory; the import stands
  return out;
}

} // namespace annal
