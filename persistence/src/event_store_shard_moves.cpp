// Shards moving between nodes, on the LMDB journal: fences (appends to a shard refused
// while it moves), the durable records of hand-overs and take-overs (table shard_owners),
// and the import of a shard's events copied from its previous owner, with their shard
// positions and stream versions kept and new node positions. See
// docs/architecture.md, "Shard moves".
#include "annal/event_store.hpp"

#include <unordered_map>

#include "byte_order.hpp"
#include "crash_point.hpp"
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
  if (auto to = handed_to.find(shard); to != handed_to.end())
    return make_error(errc::unavailable, "shard " + std::to_string(shard) + " moved to node '"
                                           + to->second + "'");
  return make_error(errc::unavailable, "shard " + std::to_string(shard)
                                         + " is fenced (moving to another node); retry later");
}

namespace {

// shard_owners: key u16 shard (big-endian), value u64 epoch (big-endian) + owner id (empty:
// this journal's node).
status decode_owner(const MDB_val& k, const MDB_val& v, shard_owner_record& out) {
  if (k.mv_size != 2 || v.mv_size < 8)
    return make_error(errc::corrupt, "malformed shard_owners record");
  out.shard = detail::load_be16(static_cast<const char*>(k.mv_data));
  out.epoch = detail::load_be64(static_cast<const char*>(v.mv_data));
  out.owner.assign(static_cast<const char*>(v.mv_data) + 8, v.mv_size - 8);
  return {};
}

result<std::vector<shard_owner_record>> read_owner_records(detail::lmdb_env& env, MDB_dbi dbi) {
  return env.read([&](const detail::txn& t) -> result<std::vector<shard_owner_record>> {
    std::vector<shard_owner_record> out;
    detail::cursor c{t, dbi};
    if (!c.ok())
      return detail::lmdb_error(c.rc(), "open cursor");
    MDB_val k, v;
    int rc = c.get(k, v, MDB_FIRST);
    for (; rc == 0; rc = c.get(k, v, MDB_NEXT)) {
      out.emplace_back();
      if (auto ok = decode_owner(k, v, out.back()); !ok)
        return std::move(ok).error();
    }
    if (rc != MDB_NOTFOUND)
      return detail::lmdb_error(rc, "read shard owners");
    return out;
  });
}

status check_owner_args(uint16_t shard, uint16_t shard_count, uint64_t epoch) {
  if (shard_count == 0 || shard >= shard_count)
    return make_error(errc::bad_request, "shard " + std::to_string(shard) + " is out of range");
  if (epoch == 0)
    return make_error(errc::bad_request, "an owner's epoch starts at 1");
  return {};
}

} // namespace

status lmdb_event_store::impl::load_owner_fences() {
  if (!has_owners)
    return {};
  auto records = read_owner_records(*env, owners_dbi);
  if (!records)
    return std::move(records).error();
  std::lock_guard<std::mutex> guard{writer};
  for (const auto& r : *records) {
    if (r.owner.empty() || r.shard >= shard_count)
      continue;
    if (fenced.empty())
      fenced.assign(shard_count, false);
    fenced[r.shard] = true;
    handed_to[r.shard] = r.owner;
  }
  return {};
}

status lmdb_event_store::impl::record_owner(uint16_t shard, std::string_view owner, uint64_t epoch) {
  if (options().read_only || !has_owners)
    return make_error(errc::bad_request, "the store is open read-only");
  auto ok = env->write([&](detail::txn& t) -> status {
    char key[2];
    detail::store_be16(key, shard);
    std::string value(8 + owner.size(), '\0');
    detail::store_be64(value.data(), epoch);
    value.replace(8, owner.size(), owner);
    MDB_val k{2, key}, v = detail::as_val(value);
    if (int rc = t.put(owners_dbi, k, v); rc != 0)
      return detail::lmdb_error(rc, "write shard owner");
    return {};
  });
  if (!ok)
    return ok;
  if (fenced.empty())
    fenced.assign(shard_count, false);
  fenced[shard] = !owner.empty();
  if (owner.empty())
    handed_to.erase(shard);
  else
    handed_to[shard] = std::string{owner};
  return {};
}

status lmdb_event_store::hand_over_shard(uint16_t shard, std::string_view to, uint64_t epoch) {
  auto& p = *impl_;
  if (auto ok = check_owner_args(shard, p.shard_count, epoch); !ok)
    return ok;
  if (to.empty() || to.size() > 255)
    return make_error(errc::bad_request, "the new owner's id must be 1..255 bytes");
  std::lock_guard<std::mutex> guard{p.writer};
  auto ok = p.record_owner(shard, to, epoch);
  if (ok)
    detail::crash_point("shard.handed_over");
  return ok;
}

status lmdb_event_store::take_over_shard(uint16_t shard, uint64_t epoch) {
  auto& p = *impl_;
  if (auto ok = check_owner_args(shard, p.shard_count, epoch); !ok)
    return ok;
  std::lock_guard<std::mutex> guard{p.writer};
  return p.record_owner(shard, {}, epoch);
}

result<std::vector<shard_owner_record>> lmdb_event_store::shard_owners() {
  auto& p = *impl_;
  if (!p.has_owners)
    return std::vector<shard_owner_record>{};
  return read_owner_records(*p.env, p.owners_dbi);
}

status lmdb_event_store::fence_shard(uint16_t shard, bool on) {
  auto& p = *impl_;
  if (p.shard_count == 0 || shard >= p.shard_count)
    return make_error(errc::bad_request, "shard " + std::to_string(shard) + " is out of range");
  // Under the writer mutex: a commit in progress ends before the fence is up, and every
  // later write transaction sees it.
  std::lock_guard<std::mutex> guard{p.writer};
  if (!on && p.handed_to.count(shard) > 0)
    return make_error(errc::bad_request, "shard " + std::to_string(shard) + " was handed over to node '"
                                           + p.handed_to[shard] + "'; only take_over_shard lifts its fence");
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
        // A stream born here since the last merge has runs in the memtable, no record.
        if (p.mem.newest(e.stream_id, newest)
            || (s.exists && detail::seek_last_run(index, e.stream_id, newest)))
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
  detail::crash_point("import.committed");
  (void)p.merge_if_full(); // a failed merge leaves the runs in memory; the import stands
  return out;
}

} // namespace annal
