// The deferred stream index: appends are indexed in memory (memtable.hpp) and merged into
// `stream_index` in sorted batches; meta "indexed_through" says how far the stored index
// reaches. Why every read sees every event exactly once is argued in docs/architecture.md
// (Storage, "reading across a merge").
#include <algorithm>
#include <chrono>

#include "annal/log.hpp"
#include "byte_order.hpp"
#include "crash_point.hpp"
#include "envelope_codec.hpp"
#include "event_store_impl.hpp"
#include "meta_keys.hpp"

namespace annal {

using detail::as_val;
using detail::as_view;

namespace {

// Calls `fn(stream_id, run)` for each event of `events` in (after, through], as one-event
// runs, coalescing consecutive events of one stream. A record whose header does not parse
// is skipped (verify reports it; the stored index never covered it either).
template <class F>
status scan_events(const detail::txn& t, MDB_dbi events, global_position after,
                   global_position through, F&& fn) {
  if (through <= after)
    return {};
  detail::cursor c{t, events};
  if (!c.ok())
    return detail::lmdb_error(c.rc(), "open cursor");
  char key[8];
  detail::store_be64(key, after + 1);
  MDB_val k{8, key}, v;
  for (int rc = c.get(k, v, MDB_SET_RANGE); rc == 0; rc = c.get(k, v, MDB_NEXT)) {
    if (k.mv_size != 8)
      continue;
    auto position = detail::load_be64(static_cast<const char*>(k.mv_data));
    if (position > through)
      break;
    std::string_view id;
    stream_version version = 0;
    if (detail::peek_envelope(as_view(v), id, version) && version > 0)
      fn(id, detail::index_run{version, position, 1});
  }
  return {};
}

void append_run(std::vector<detail::index_run>& runs, const detail::index_run& r) {
  if (!runs.empty() && runs.back().last_version() + 1 == r.first_version
      && runs.back().first_position + runs.back().count == r.first_position)
    runs.back().count += r.count;
  else
    runs.push_back(r);
}

} // namespace

result<detail::merge_progress> lmdb_event_store::impl::load_merge_progress(const detail::txn& t,
                                                                         global_position last) const {
  detail::merge_progress p;
  MDB_val k = as_val(meta_key::indexed_through), v;
  int rc = t.get(dbi(meta_table), k, v);
  if (rc == MDB_NOTFOUND) {
    p.indexed = last; // format 2: every append wrote its index entry
    return p;
  }
  if (rc != 0)
    return detail::lmdb_error(rc, "read indexed_through");
  if (v.mv_size != 8)
    return make_error(errc::corrupt, "malformed indexed_through record");
  p.indexed = std::min(last, detail::load_be64(static_cast<const char*>(v.mv_data)));
  MDB_val pk = as_val(meta_key::merge_partial), pv;
  rc = t.get(dbi(meta_table), pk, pv);
  if (rc == MDB_NOTFOUND)
    return p;
  if (rc != 0)
    return detail::lmdb_error(rc, "read merge_partial");
  if (!layout::decode_merge_partial(as_view(pv), last, p))
    return make_error(errc::corrupt, "malformed merge_partial record");
  return p;
}

status lmdb_event_store::impl::begin_read(const detail::txn& t, detail::read_marks& m) const {
  auto last = load_last_position(t);
  if (!last)
    return std::move(last).error();
  auto merged = load_merge_progress(t, *last);
  if (!merged)
    return std::move(merged).error();
  m.last = *last;
  m.merged = std::move(*merged);
  return {};
}

status lmdb_event_store::impl::scan_gap(const detail::txn& t, detail::read_marks& m,
                                       global_position covered) const {
  // Events this transaction sees but the memtable did not cover when copied: a commit of
  // this process not published yet, or another process's appends. Scan their headers
  // once per transaction.
  if (m.gap_scanned && m.gap_from <= covered)
    return {};
  m.gap.clear();
  m.gap_from = covered;
  m.gap_scanned = true;
  return scan_events(t, dbi(events_table), covered, m.last,
                     [&](std::string_view id, const detail::index_run& r) {
                       append_run(m.gap[std::string{id}], r);
                     });
}

status lmdb_event_store::impl::tail_stream_ids(const detail::txn& t, detail::read_marks& m,
                                          std::string_view prefix, std::set<std::string>& out,
                                          bool& stale) const {
  if (m.last <= m.merged.indexed)
    return {};
  std::vector<std::string> ids;
  detail::memtable_view marks;
  mem.copy_ids(prefix, ids, marks);
  if (marks.merged.ahead_of(m.merged)) {
    stale = true; // as in tail_runs
    return {};
  }
  out.insert(ids.begin(), ids.end());
  auto covered = std::max(marks.covered, m.merged.indexed);
  if (covered >= m.last)
    return {};
  if (auto ok = scan_gap(t, m, covered); !ok)
    return ok;
  for (const auto& [id, runs] : m.gap)
    if (std::string_view{id}.substr(0, prefix.size()) == prefix)
      out.insert(id);
  return {};
}

status lmdb_event_store::impl::tail_runs(const detail::txn& t, detail::read_marks& m,
                                    std::string_view stream_id,
                                    std::vector<detail::index_run>& out, bool& stale,
                                    detail::tail_wanted wanted) const {
  out.clear();
  if (m.last <= m.merged.indexed)
    return {};
  detail::memtable_view view;
  mem.copy(stream_id, view,
           wanted == detail::tail_wanted::newest_run ? std::optional<global_position>{m.last} : std::nullopt);
  // Stored for this stream, as far as the transaction sees (a slice of a merge may have
  // stored it further than the rest).
  auto stored = m.merged.indexed_for(stream_id);
  if (view.merged.indexed_for(stream_id) > stored) {
    // A merge newer than this transaction dropped runs it cannot see stored: read again.
    stale = true;
    return {};
  }
  for (auto r : view.runs)
    if (r.first_position > stored && r.first_position <= m.last) {
      // A run a scan continued with another process's later commit: only what `t` sees.
      r.count = std::min<uint64_t>(r.count, m.last - r.first_position + 1);
      out.push_back(r);
    }
  auto covered = std::max(view.covered, stored);
  if (covered >= m.last)
    return {};
  if (auto ok = scan_gap(t, m, covered); !ok)
    return ok;
  auto it = m.gap.find(std::string{stream_id});
  if (it == m.gap.end())
    return {};
  for (auto r : it->second) {
    if (r.first_position + r.count - 1 <= covered)
      continue;
    if (r.first_position <= covered) { // straddles what the copy already holds
      auto skip = covered - r.first_position + 1;
      r.first_version += skip;
      r.first_position += skip;
      r.count -= skip;
    }
    append_run(out, r);
  }
  return {};
}

status lmdb_event_store::impl::begin_write(detail::txn& t, detail::write_ctx& ctx) {
  detail::read_marks marks;
  if (auto ok = begin_read(t, marks); !ok)
    return ok;
  ctx.last = marks.last;
  if (shard_count > 0) {
    ctx.shard_heads.assign(shard_count, 0);
    ctx.shard_state.assign(shard_count, 0);
  }
  // Another process merged: what it stored is no longer needed in memory, and a merge of
  // this process between its slices no longer matches the memtable.
  if (marks.merged.ahead_of(mem.merged())) {
    mem.catch_up(marks.merged);
    plan.reset();
  }
  // Another process appended: index its events from their headers.
  auto from = std::max(mem.covered(), marks.merged.indexed);
  if (marks.last > from) {
    auto ok = scan_events(t, dbi(events_table), from, marks.last,
                          [&](std::string_view id, const detail::index_run& r) {
                            if (r.first_position > marks.merged.indexed_for(id))
                              mem.add(id, r, r.first_position);
                          });
    if (!ok)
      return ok;
    mem.add_covered(marks.last);
  }
  return {};
}

status lmdb_event_store::impl::finish_write(detail::txn& t, detail::write_ctx& ctx) {
  for (std::size_t shard = 0; shard < ctx.shard_state.size(); ++shard) {
    if (ctx.shard_state[shard] != 2)
      continue;
    char key[2], value[8];
    detail::store_be16(key, static_cast<uint16_t>(shard));
    detail::store_be64(value, ctx.shard_heads[shard]);
    MDB_val k{2, key}, v{8, value};
    if (int rc = t.put(shards_dbi, k, v); rc != 0)
      return detail::lmdb_error(rc, "write shard head");
  }
  return {};
}

void lmdb_event_store::impl::published(detail::write_ctx& ctx) {
  mem.publish(ctx.runs, ctx.last);
}

status lmdb_event_store::impl::write_groups(detail::txn& t, const detail::merge_group* groups,
                                           std::size_t count, global_position through) {
  detail::cursor c{t, dbi(stream_index_table)};
  if (!c.ok())
    return detail::lmdb_error(c.rc(), "open cursor");
  std::string key;
  char value[detail::index_value_size];
  for (std::size_t i = 0; i < count; ++i) {
    const auto& g = groups[i];
    for (std::size_t r = 0; r < g.count; ++r) {
      const auto& run = (*g.runs)[r];
      // A run a scan extended after the plan was made is stored only through `through`.
      auto n = std::min<uint64_t>(run.count, through - run.first_position + 1);
      key = detail::stream_key(g.stream_id, run.first_version);
      detail::encode_index_value(value, run.first_position, n);
      MDB_val k = as_val(key), v{sizeof(value), value};
      if (int rc = t.note(mdb_cursor_put(c.native(), &k, &v, 0)); rc != 0)
        return detail::lmdb_error(rc, "write stream index");
    }
    // Only a run starting at version 1 can belong to a stream without a record: any later
    // run follows runs that an earlier merge stored with the record (or an import, which
    // writes its record itself).
    if (g.count == 0 || g.runs->front().first_version != 1)
      continue;
    stream_info s;
    bool exists = false;
    if (auto ok = load_record(t, g.stream_id, s, &exists); !ok)
      return ok;
    if (!exists)
      if (auto ok = store_stream(t, s); !ok)
        return ok;
  }
  return {};
}

namespace {

status put_meta(detail::txn& t, MDB_dbi meta, std::string_view key, std::string_view value) {
  MDB_val k = as_val(key), v = as_val(value);
  if (int rc = t.put(meta, k, v); rc != 0)
    return detail::lmdb_error(rc, "write a merge mark");
  return {};
}

} // namespace

status lmdb_event_store::impl::finish_merge(detail::txn& t, global_position through) {
  size_merges(t);
  auto meta = dbi(meta_table);
  char mark[8];
  detail::store_be64(mark, through);
  if (auto ok = put_meta(t, meta, meta_key::indexed_through, {mark, 8}); !ok)
    return ok;
  MDB_val k = as_val(meta_key::merge_partial);
  if (int rc = t.del(meta, k); rc != 0 && rc != MDB_NOTFOUND)
    return detail::lmdb_error(rc, "erase merge_partial");
  return {};
}

status lmdb_event_store::impl::merge_into(detail::txn& t, const detail::write_ctx& ctx) {
  plan.reset(); // this merge writes what the plan had left, and more
  auto groups = mem.groups_through(ctx.last);
  if (auto ok = write_groups(t, groups.data(), groups.size(), ctx.last); !ok)
    return ok;
  detail::crash_point("merge.written");
  return finish_merge(t, ctx.last);
}

status lmdb_event_store::impl::merge_locked() {
  if (options().read_only)
    return {};
  detail::crash_point("merge.begin");
  global_position through = 0;
  auto merged = env->write([&](detail::txn& t) -> status {
    detail::write_ctx ctx;
    if (auto ok = begin_write(t, ctx); !ok)
      return ok;
    through = ctx.last;
    if (auto progress = load_merge_progress(t, ctx.last); progress && progress->indexed >= ctx.last)
      return {}; // nothing to merge
    return merge_into(t, ctx);
  });
  if (!merged)
    return merged;
  detail::crash_point("merge.committed");
  mem.drop_through(through);
  return {};
}

void lmdb_event_store::impl::size_merges(const detail::txn& t) {
  MDB_stat st;
  std::size_t leaves = mdb_stat(t.get(), dbi(stream_index_table), &st) == 0 ? st.ms_leaf_pages : 0;
  merge_threshold = std::max(merge_runs, std::min(options().index_merge_max_runs,
                                                  merge_runs_per_leaf * leaves));
}

status lmdb_event_store::impl::merge_if_full() {
  using clock = std::chrono::steady_clock;
  if (!plan) {
    if (mem.run_count() < merge_threshold)
      return {};
    if (slice_runs == 0 || mem.run_count() <= slice_runs)
      return merge_locked();
    plan = merge_plan{mem.covered(), mem.groups_through(mem.covered()), 0};
  } else if (clock::now() < next_slice_at && mem.run_count() < 2 * merge_threshold) {
    return {};
  }
  auto started = clock::now();
  auto ok = merge_slice();
  auto took = clock::now() - started;
  next_slice_at = clock::now()
                  + std::chrono::duration_cast<clock::duration>(took * slice_gap);
  return ok;
}

status lmdb_event_store::impl::merge_slice() {
  if (options().read_only)
    return {};
  detail::crash_point("merge.begin");
  // The next groups, about slice_runs runs (a stream's runs are never split).
  auto from = plan->next, end = from;
  std::size_t runs = 0;
  while (end < plan->groups.size() && (runs == 0 || runs < slice_runs))
    runs += plan->groups[end++].count;
  bool last = end == plan->groups.size();
  bool abandoned = false;
  auto written = env->write([&](detail::txn& t) -> status {
    detail::write_ctx ctx;
    if (auto ok = begin_write(t, ctx); !ok)
      return ok;
    if (!plan) { // another process merged meanwhile: start afresh next time
      abandoned = true;
      return {};
    }
    if (auto ok = write_groups(t, plan->groups.data() + from, end - from, plan->through); !ok)
      return ok;
    detail::crash_point("merge.written");
    if (last)
      return finish_merge(t, plan->through);
    return put_meta(t, dbi(meta_table), meta_key::merge_partial,
                    layout::encode_merge_partial(plan->through, plan->groups[end - 1].stream_id));
  });
  if (!written || abandoned)
    return written;
  detail::crash_point("merge.committed");
  mem.drop_slice(plan->groups.data() + from, end - from, plan->through, last);
  if (last)
    plan.reset();
  else
    plan->next = end;
  return {};
}

status lmdb_event_store::impl::rebuild_memtable() {
  auto started = std::chrono::steady_clock::now();
  uint64_t events = 0;
  auto rebuilt = env->read([&](const detail::txn& t) -> status {
    detail::read_marks m;
    if (auto ok = begin_read(t, m); !ok)
      return ok;
    mem.catch_up(m.merged);
    size_merges(t);
    auto ok = scan_events(t, dbi(events_table), m.merged.indexed, m.last,
                          [&](std::string_view id, const detail::index_run& r) {
                            if (r.first_position <= m.merged.indexed_for(id))
                              return; // stored by a merge killed between its slices
                            mem.add(id, r, r.first_position);
                            ++events;
                          });
    if (!ok)
      return ok;
    mem.add_covered(m.last);
    return {};
  });
  if (rebuilt && events > 0) {
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
    log(log_level::debug, "journal: indexed " + std::to_string(events)
                            + " events past the stored index at open in "
                            + std::to_string(static_cast<long>(ms.count())) + " ms");
  }
  return rebuilt;
}

} // namespace annal
