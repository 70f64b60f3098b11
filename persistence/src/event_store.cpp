#include "annal/event_store.hpp"

#include <cstdlib>
#include <limits>
#include <optional>
#include <random>

#include "byte_order.hpp"
#include "crash_point.hpp"
#include "envelope_codec.hpp"
#include "shard.hpp"
#include "event_store_impl.hpp"
#include "meta_keys.hpp"
#include "snapshot_codec.hpp"
#include "stream_record.hpp"

namespace annal {

using detail::as_val;
using detail::as_view;

namespace {

std::string random_node_id() {
  std::random_device rd;
  std::mt19937_64 gen{(uint64_t{rd()} << 32) ^ rd()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string id(16, '0');
  for (auto& c : id)
    c = hex[gen() & 15];
  return id;
}

result<uint32_t> load_format(detail::lmdb_env& env) {
  return env.read([&](const detail::txn& t) -> result<uint32_t> {
    MDB_val k = as_val(meta_key::format), v;
    int rc = t.get(env.dbi(meta_table), k, v);
    if (rc == MDB_NOTFOUND)
      return uint32_t{0};
    if (rc != 0)
      return detail::lmdb_error(rc, "read format version");
    if (v.mv_size != 4)
      return make_error(errc::corrupt, "malformed format version record");
    auto fmt = detail::load_le<uint32_t>(static_cast<const char*>(v.mv_data));
    if (fmt != journal_format_version && fmt != journal_format_v2)
      return make_error(errc::corrupt, "the store has format version " + std::to_string(fmt)
                                         + "; this build reads versions 2 and "
                                         + std::to_string(journal_format_version) + " only");
    return fmt;
  });
}

// Writes the format version, a node id, the shard count and an empty index mark into a
// new journal.
status init_meta(detail::lmdb_env& env, uint16_t shard_count) {
  return env.write([&](detail::txn& t) -> status {
    char fmt[4];
    detail::store_le<uint32_t>(fmt, journal_format_version);
    MDB_val k = as_val(meta_key::format), v{4, fmt};
    if (int rc = t.put(env.dbi(meta_table), k, v); rc != 0)
      return detail::lmdb_error(rc, "write format version");
    auto id = random_node_id();
    MDB_val nk = as_val(meta_key::node_id), nv = as_val(id);
    if (int rc = t.put(env.dbi(meta_table), nk, nv); rc != 0)
      return detail::lmdb_error(rc, "write node id");
    char count[2];
    detail::store_le<uint16_t>(count, shard_count);
    MDB_val sk = as_val(meta_key::shard_count), sv{2, count};
    if (int rc = t.put(env.dbi(meta_table), sk, sv); rc != 0)
      return detail::lmdb_error(rc, "write shard count");
    char zero[8];
    detail::store_be64(zero, 0);
    MDB_val ik = as_val(meta_key::indexed_through), iv{8, zero};
    if (int rc = t.put(env.dbi(meta_table), ik, iv); rc != 0)
      return detail::lmdb_error(rc, "write indexed_through");
    return {};
  });
}

result<uint16_t> load_shard_count(detail::lmdb_env& env) {
  return env.read([&](const detail::txn& t) -> result<uint16_t> {
    MDB_val k = as_val(meta_key::shard_count), v;
    int rc = t.get(env.dbi(meta_table), k, v);
    if (rc == MDB_NOTFOUND)
      return uint16_t{0};
    if (rc != 0)
      return detail::lmdb_error(rc, "read shard count");
    if (v.mv_size != 2 || detail::load_le<uint16_t>(static_cast<const char*>(v.mv_data)) == 0)
      return make_error(errc::corrupt, "malformed shard count record");
    return detail::load_le<uint16_t>(static_cast<const char*>(v.mv_data));
  });
}

} // namespace

// -- impl helpers -------------------------------------------------------------------------

status lmdb_event_store::impl::load_record(const detail::txn& t, std::string_view stream_id,
                                      stream_info& out, bool* exists) const {
  out = stream_info{};
  out.stream_id.assign(stream_id);
  MDB_val k = as_val(stream_id), v;
  int rc = t.get(dbi(streams_table), k, v);
  if (exists != nullptr)
    *exists = rc == 0;
  if (rc == MDB_NOTFOUND)
    return {};
  if (rc != 0)
    return detail::lmdb_error(rc, "read stream record");
  if (!detail::decode_stream_record(as_view(v), out))
    return make_error(errc::corrupt, "malformed record of stream '" + out.stream_id + "'");
  return {};
}

status lmdb_event_store::impl::load_stream(const detail::txn& t, detail::read_marks& m,
                                      std::string_view stream_id, stream_info& out,
                                      std::vector<detail::index_run>& tail, bool& stale,
                                      detail::cursor* index, detail::tail_wanted wanted) const {
  if (auto ok = load_record(t, stream_id, out); !ok)
    return ok;
  if (auto ok = tail_runs(t, m, stream_id, tail, stale, wanted); !ok)
    return ok;
  // The head is the newest run of the stream: in the unmerged tail, else in the stored
  // index (or the record's, after a truncation left no run).
  detail::index_run run;
  bool found = !tail.empty();
  if (found) {
    run = tail.back();
  } else {
    std::optional<detail::cursor> own;
    if (index == nullptr) {
      own.emplace(t, dbi(stream_index_table));
      if (!own->ok())
        return detail::lmdb_error(own->rc(), "open cursor");
      index = &*own;
    }
    found = detail::seek_last_run(*index, stream_id, run);
  }
  if (found && run.last_version() > out.head) {
    out.head = run.last_version();
    out.last_position = run.first_position + run.count - 1;
  }
  return {};
}

status lmdb_event_store::impl::store_stream(detail::txn& t, const stream_info& s) {
  char buf[detail::stream_record_size];
  detail::encode_stream_record(buf, s);
  MDB_val k = as_val(s.stream_id), v{sizeof(buf), buf};
  if (int rc = t.put(dbi(streams_table), k, v); rc != 0)
    return detail::lmdb_error(rc, "write stream head");
  return note_trimmed(t, s);
}

result<global_position> lmdb_event_store::impl::load_last_position(const detail::txn& t) const {
  // The newest event's key, or the high-water mark kept when deletions removed the newest
  // events (positions are never reused), whichever is larger.
  global_position newest = 0;
  {
    detail::cursor c{t, dbi(events_table)};
    if (!c.ok())
      return detail::lmdb_error(c.rc(), "open cursor");
    MDB_val k, v;
    int rc = c.get(k, v, MDB_LAST);
    if (rc == 0 && k.mv_size == 8)
      newest = detail::load_be64(static_cast<const char*>(k.mv_data));
    else if (rc != 0 && rc != MDB_NOTFOUND)
      return detail::lmdb_error(rc, "read the newest event");
  }
  MDB_val k = as_val(meta_key::last_position), v;
  int rc = t.get(dbi(meta_table), k, v);
  if (rc == MDB_NOTFOUND)
    return newest;
  if (rc != 0)
    return detail::lmdb_error(rc, "read last position");
  if (v.mv_size != 8)
    return make_error(errc::corrupt, "malformed last position record");
  return std::max(newest, detail::load_be64(static_cast<const char*>(v.mv_data)));
}

status lmdb_event_store::impl::store_last_position(detail::txn& t, global_position p) {
  char buf[8];
  detail::store_be64(buf, p);
  MDB_val k = as_val(meta_key::last_position), v{8, buf};
  if (int rc = t.put(dbi(meta_table), k, v); rc != 0)
    return detail::lmdb_error(rc, "write last position");
  return {};
}

result<append_result> lmdb_event_store::impl::apply(detail::txn& t, detail::cursor& index,
                                               detail::write_ctx& ctx, const stream_append& a,
                                               timestamp_ns now) {
  if (auto ok = detail::validate_append(a, options()); !ok)
    return std::move(ok).error();
  if (auto ok = check_fence(a.stream_id); !ok)
    return std::move(ok).error();
  stream_info s;
  bool exists = false;
  if (auto ok = load_record(t, a.stream_id, s, &exists); !ok)
    return std::move(ok).error();
  if (s.deleted)
    return make_error(errc::stream_deleted, "stream '" + a.stream_id + "' was deleted");
  // The head: this transaction's newest run of the stream, else the memtable's, else the
  // stored index's (each newer than the next), or the record's after a truncation. A
  // stream born since the last merge has runs but no record yet; one with stored runs
  // always has a record (the merge writes both).
  detail::index_run newest;
  bool found = false;
  if (auto it = ctx.newest.find(a.stream_id); it != ctx.newest.end()) {
    newest = ctx.runs[it->second].second;
    found = true;
  } else {
    found = mem.newest(a.stream_id, newest)
            || (exists && detail::seek_last_run(index, a.stream_id, newest));
  }
  if (found && newest.last_version() > s.head)
    s.head = newest.last_version();
  if (!a.expected.matches(s.head))
    return make_conflict("stream '" + a.stream_id + "'", a.expected, s.head);
  append_result r{a.stream_id, s.head, 0, 0, 0, 0};
  if (a.events.empty())
    return r;
  detail::shard_place place;
  uint64_t* shard_head = nullptr;
  if (shard_count > 0) {
    place.shard = detail::shard_of(a.stream_id, shard_count);
    if (ctx.shard_state[place.shard] == 0) {
      char key[2];
      detail::store_be16(key, place.shard);
      MDB_val k{2, key}, v;
      int rc = t.get(shards_dbi, k, v);
      if (rc != 0 && rc != MDB_NOTFOUND)
        return detail::lmdb_error(rc, "read shard head");
      ctx.shard_heads[place.shard] =
        rc == 0 && v.mv_size == 8 ? detail::load_be64(static_cast<const char*>(v.mv_data)) : 0;
      ctx.shard_state[place.shard] = 1;
    }
    shard_head = &ctx.shard_heads[place.shard];
    ctx.shard_state[place.shard] = 2;
  }
  char pos_key[8];
  MDB_val pk{8, pos_key};
  auto first_version = s.head + 1;
  for (const auto& e : a.events) {
    auto position = ++ctx.last;
    auto version = ++s.head;
    if (shard_head != nullptr)
      place.position = ++*shard_head;
    detail::store_be64(pos_key, position);
    MDB_val v{detail::envelope_size(a.stream_id, e), nullptr};
    if (int rc = t.put(dbi(events_table), pk, v, MDB_APPEND | MDB_RESERVE); rc != 0)
      return detail::lmdb_error(rc, "write event");
    detail::encode_envelope(static_cast<char*>(v.mv_data), position, a.stream_id, version,
                            e.timestamp != 0 ? e.timestamp : now, e, place);
    if (r.first_position == 0)
      r.first_position = position;
  }
  // One run for the whole append (its versions and positions are consecutive), indexed in
  // memory: the stored index receives it at the next merge.
  auto [it, fresh] = ctx.newest.try_emplace(a.stream_id, ctx.runs.size());
  if (!fresh)
    it->second = ctx.runs.size();
  ctx.runs.emplace_back(a.stream_id, detail::index_run{first_version, r.first_position,
                                                        a.events.size()});
  r.last_position = ctx.last;
  r.next_expected_version = s.head;
  r.shard = place.shard;
  r.last_shard_position = place.position;
  // The head lives in the index; a new stream's record is written by the index merge
  // that stores its first run (merge_into), in one sorted batch with the others' births,
  // instead of at a random key of `streams` in this commit.
  return r;
}

// -- event_store ----------------------------------------------------------------------------

lmdb_event_store::lmdb_event_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
lmdb_event_store::~lmdb_event_store() {
  if (impl_ && !impl_->options().read_only && impl_->mem.run_count() > 0) {
    std::lock_guard<std::mutex> guard{impl_->writer};
    (void)impl_->merge_locked(); // the runs are rebuilt from the events at the next open
  }
}

status lmdb_event_store::merge_index() {
  if (impl_->options().read_only)
    return {};
  std::lock_guard<std::mutex> guard{impl_->writer};
  return impl_->merge_locked();
}

result<std::unique_ptr<event_store>> event_store::open(const store_options& options) {
  auto env = detail::lmdb_env::open(
    options, {"events", "stream_index", "streams", "snapshots", "meta"}, 3, {"checkpoints"});
  if (!env)
    return std::move(env).error();
  auto p = std::make_unique<lmdb_event_store::impl>();
  p->env = std::move(*env);
  p->merge_runs = options.index_merge_runs;
  p->merge_runs_per_leaf = options.index_merge_runs_per_leaf;
  // Tests run whole suites with merges at every commit (1) or every few (3) through this.
  if (const char* v = std::getenv("ANNAL_JOURNAL_INDEX_MERGE_RUNS"); v != nullptr && *v != '\0') {
    p->merge_runs = std::max<std::size_t>(1, std::strtoull(v, nullptr, 10));
    p->merge_runs_per_leaf = 0;
  }
  p->merge_threshold = p->merge_runs;
  p->slice_runs = options.index_merge_slice_runs;
  if (const char* v = std::getenv("ANNAL_JOURNAL_INDEX_MERGE_SLICE"); v != nullptr && *v != '\0')
    p->slice_runs = std::strtoull(v, nullptr, 10);
  p->slice_gap = options.index_merge_slice_gap;
  if (const char* v = std::getenv("ANNAL_JOURNAL_INDEX_MERGE_GAP"); v != nullptr && *v != '\0')
    p->slice_gap = std::strtod(v, nullptr);
  auto format = load_format(*p->env);
  if (!format)
    return std::move(format).error();
  if (options.read_only && *format == 0)
    return make_error(errc::corrupt, options.dir.string() + " holds no journal format record");
  if (auto shards = p->env->open_table("shards", !options.read_only)) {
    p->shards_dbi = *shards;
    p->has_shards = true;
  } else if (!options.read_only || shards.error().code != errc::not_found) {
    return std::move(shards).error();
  }
  if (*format == 0) {
    if (options.shard_count == 0)
      return make_error(errc::bad_request, "shard_count must be at least 1");
    if (auto ok = init_meta(*p->env, options.shard_count); !ok)
      return std::move(ok).error();
  }
  auto shards = load_shard_count(*p->env);
  if (!shards)
    return std::move(shards).error();
  p->shard_count = p->has_shards ? *shards : 0;
  if (auto owners = p->env->open_table("shard_owners", !options.read_only)) {
    p->owners_dbi = *owners;
    p->has_owners = true;
  } else if (!options.read_only || owners.error().code != errc::not_found) {
    return std::move(owners).error();
  }
  if (auto ok = p->rebuild_memtable(); !ok)
    return std::move(ok).error();
  if (!options.read_only) {
    // A format-2 store, or an upgrade a crash interrupted: upgrade (resumes where it was).
    if (auto ok = p->upgrade_format({}); !ok)
      return std::move(ok).error();
    auto count = load_shard_count(*p->env);
    if (!count)
      return std::move(count).error();
    p->shard_count = *count;
  }
  if (auto ok = p->open_trimmed_index(); !ok)
    return std::move(ok).error();
  if (auto ok = p->load_owner_fences(); !ok)
    return std::move(ok).error();
  return std::unique_ptr<event_store>{new lmdb_event_store(std::move(p))};
}

status event_store::upgrade(const store_options& options,
                            const std::function<void(uint64_t, uint64_t)>& progress) {
  if (options.read_only)
    return make_error(errc::bad_request, "an upgrade needs the store open for writing");
  store_options o = options;
  // Open without the automatic upgrade's silence: open the environment, then upgrade with
  // progress. The open below finds nothing left to do.
  {
    auto env = detail::lmdb_env::open(
      o, {"events", "stream_index", "streams", "snapshots", "meta"}, 2, {"checkpoints"});
    if (!env)
      return std::move(env).error();
    lmdb_event_store::impl p;
    p.env = std::move(*env);
    auto format = load_format(*p.env);
    if (!format)
      return std::move(format).error();
    if (*format == 0)
      return make_error(errc::not_found, o.dir.string() + " holds no journal");
    auto shards = p.env->open_table("shards", true);
    if (!shards)
      return std::move(shards).error();
    p.shards_dbi = *shards;
    p.has_shards = true;
    if (auto ok = p.upgrade_format(progress); !ok)
      return ok;
  }
  auto store = open(o);
  if (!store)
    return std::move(store).error();
  return {};
}

result<append_result> lmdb_event_store::append(std::string_view stream_id, expected_version expected,
                                          std::vector<new_event> events) {
  std::vector<stream_append> one;
  one.push_back(stream_append{std::string{stream_id}, expected, std::move(events)});
  auto r = append(std::move(one));
  if (!r)
    return std::move(r).error();
  return std::move(r->front());
}

result<std::vector<append_result>> lmdb_event_store::append(std::vector<stream_append> appends) {
  // Any write error (including a failed expectation) aborts the single transaction,
  // which makes the multi-stream append atomic.
  auto now = now_ns();
  std::lock_guard<std::mutex> guard{impl_->writer};
  detail::write_ctx done;
  auto results = impl_->env->write([&](detail::txn& t) -> result<std::vector<append_result>> {
    detail::write_ctx ctx;
    if (auto ok = impl_->begin_write(t, ctx); !ok)
      return std::move(ok).error();
    std::vector<append_result> out;
    out.reserve(appends.size());
    detail::cursor index{t, impl_->dbi(stream_index_table)};
    if (!index.ok())
      return detail::lmdb_error(index.rc(), "open cursor");
    for (const auto& a : appends) {
      auto r = impl_->apply(t, index, ctx, a, now);
      if (!r)
        return std::move(r).error();
      out.push_back(std::move(*r));
    }
    if (auto ok = impl_->finish_write(t, ctx); !ok)
      return std::move(ok).error();
    done = std::move(ctx);
    return out;
  });
  if (!results)
    return results;
  impl_->published(done);
  detail::crash_point("commit.published");
  (void)impl_->merge_if_full(); // a failed merge leaves the runs in memory; the commit stands
  return results;
}

namespace {

// A failed check inside apply() leaves nothing written for that append; a failed write
// (map full, I/O) leaves a partial append, so it must fail the whole transaction.
bool is_check_failure(errc code) {
  return code == errc::conflict || code == errc::stream_deleted || code == errc::bad_request
         || code == errc::corrupt || code == errc::unavailable;
}

void collect_committed(write_batch& batch, const batch_outcome& out,
                       std::vector<recorded_event>& committed, timestamp_ns now) {
  for (std::size_t i = 0; i < batch.appends.size(); ++i) {
    if (!out.appends[i])
      continue;
    auto& a = batch.appends[i];
    const auto& r = *out.appends[i];
    auto version = r.next_expected_version - a.events.size();
    auto position = r.first_position;
    // An append's events take consecutive shard positions, the last one reported (0: a
    // store without shards).
    bool sharded = r.last_shard_position != 0;
    auto shard_position = sharded ? r.last_shard_position - a.events.size() : 0;
    for (auto& e : a.events) {
      recorded_event ev;
      ev.stream_id = a.stream_id;
      ev.version = ++version;
      ev.position = position++;
      ev.shard = r.shard;
      ev.shard_position = sharded ? ++shard_position : 0;
      ev.type = std::move(e.type);
      ev.schema_version = e.schema_version;
      ev.timestamp = e.timestamp != 0 ? e.timestamp : now;
      ev.metadata = std::move(e.metadata);
      ev.payload = std::move(e.payload);
      committed.push_back(std::move(ev));
    }
  }
}

} // namespace

result<batch_outcome> lmdb_event_store::commit(write_batch& batch, bool collect) {
  auto now = now_ns();
  std::lock_guard<std::mutex> guard{impl_->writer};
  detail::write_ctx done;
  auto outcome = impl_->env->write([&](detail::txn& t) -> result<batch_outcome> {
    batch_outcome out;
    out.appends.reserve(batch.appends.size());
    detail::write_ctx ctx;
    if (auto ok = impl_->begin_write(t, ctx); !ok)
      return std::move(ok).error();
    detail::cursor index{t, impl_->dbi(stream_index_table)};
    if (!index.ok())
      return detail::lmdb_error(index.rc(), "open cursor");
    for (const auto& a : batch.appends) {
      auto r = impl_->apply(t, index, ctx, a, now);
      if (!r && !is_check_failure(r.error().code))
        return std::move(r).error();
      out.appends.push_back(std::move(r));
    }
    for (const auto& s : batch.snapshots)
      if (auto ok = impl_->put_snapshot(t, s); !ok && ok.error().code != errc::bad_request)
        return std::move(ok).error();
    if (auto ok = impl_->finish_write(t, ctx); !ok)
      return std::move(ok).error();
    done = std::move(ctx);
    return out;
  });
  if (!outcome)
    return outcome;
  impl_->published(done);
  detail::crash_point("commit.published");
  if (collect)
    collect_committed(batch, *outcome, outcome->committed, now);
  // A failed merge leaves the runs in memory (nothing is lost); the commit stands.
  (void)impl_->merge_if_full();
  return outcome;
}

status lmdb_event_store::flush() {
  return impl_->env->sync();
}

const store_options& lmdb_event_store::options() const noexcept {
  return impl_->options();
}

void* lmdb_event_store::native_handle() noexcept {
  return impl_->env->native();
}

} // namespace annal
