#include "annal/event_store.hpp"

#include <limits>
#include <optional>
#include <random>

#include "byte_order.hpp"
#include "envelope_codec.hpp"
#include "event_store_impl.hpp"
#include "snapshot_codec.hpp"
#include "stream_record.hpp"

namespace annal {

using detail::as_val;
using detail::as_view;

namespace {

constexpr std::string_view last_position_key = "last_position";
constexpr std::string_view format_key = "format_version";
constexpr std::string_view node_id_key = "node_id";

std::string random_node_id() {
  std::random_device rd;
  std::mt19937_64 gen{(uint64_t{rd()} << 32) ^ rd()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string id(16, '0');
  for (auto& c : id)
    c = hex[gen() & 15];
  return id;
}

// Writes the format version and a node id into a new journal; checks an old one.
status init_meta(detail::lmdb_env& env) {
  auto check = env.read([&](const detail::txn& t) -> result<bool> {
    MDB_val k = as_val(format_key), v;
    int rc = t.get(env.dbi(meta_table), k, v);
    if (rc == MDB_NOTFOUND)
      return false;
    if (rc != 0)
      return detail::lmdb_error(rc, "read format version");
    if (v.mv_size != 4)
      return make_error(errc::corrupt, "malformed format version record");
    auto fmt = detail::load_le<uint32_t>(static_cast<const char*>(v.mv_data));
    if (fmt != journal_format_version)
      return make_error(errc::corrupt, "the store has format version " + std::to_string(fmt)
                                         + "; this build reads version "
                                         + std::to_string(journal_format_version) + " only");
    return true;
  });
  if (!check)
    return std::move(check).error();
  if (*check || env.options().read_only)
    return {};
  return env.write([&](detail::txn& t) -> status {
    char fmt[4];
    detail::store_le<uint32_t>(fmt, journal_format_version);
    MDB_val k = as_val(format_key), v{4, fmt};
    if (int rc = t.put(env.dbi(meta_table), k, v); rc != 0)
      return detail::lmdb_error(rc, "write format version");
    auto id = random_node_id();
    MDB_val nk = as_val(node_id_key), nv = as_val(id);
    if (int rc = t.put(env.dbi(meta_table), nk, nv); rc != 0)
      return detail::lmdb_error(rc, "write node id");
    return {};
  });
}

} // namespace

// -- impl helpers -------------------------------------------------------------------------

status event_store::impl::load_stream(const detail::txn& t, std::string_view stream_id,
                                      stream_info& out, detail::cursor* index,
                                      bool* exists) const {
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
  // The head is the newest run of the stream's index (or the record's, after truncation).
  std::optional<detail::cursor> own;
  if (index == nullptr) {
    own.emplace(t, dbi(stream_index_table));
    if (!own->ok())
      return detail::lmdb_error(own->rc(), "open cursor");
    index = &*own;
  }
  detail::index_run run;
  if (detail::seek_last_run(*index, stream_id, run) && run.last_version() > out.head) {
    out.head = run.last_version();
    out.last_position = run.first_position + run.count - 1;
  }
  return {};
}

status event_store::impl::store_stream(detail::txn& t, const stream_info& s) {
  char buf[detail::stream_record_size];
  detail::encode_stream_record(buf, s);
  MDB_val k = as_val(s.stream_id), v{sizeof(buf), buf};
  if (int rc = t.put(dbi(streams_table), k, v); rc != 0)
    return detail::lmdb_error(rc, "write stream head");
  return {};
}

result<global_position> event_store::impl::load_last_position(const detail::txn& t) const {
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
  MDB_val k = as_val(last_position_key), v;
  int rc = t.get(dbi(meta_table), k, v);
  if (rc == MDB_NOTFOUND)
    return newest;
  if (rc != 0)
    return detail::lmdb_error(rc, "read last position");
  if (v.mv_size != 8)
    return make_error(errc::corrupt, "malformed last position record");
  return std::max(newest, detail::load_be64(static_cast<const char*>(v.mv_data)));
}

status event_store::impl::store_last_position(detail::txn& t, global_position p) {
  char buf[8];
  detail::store_be64(buf, p);
  MDB_val k = as_val(last_position_key), v{8, buf};
  if (int rc = t.put(dbi(meta_table), k, v); rc != 0)
    return detail::lmdb_error(rc, "write last position");
  return {};
}

result<append_result> event_store::impl::apply(detail::txn& t, detail::cursor& index,
                                               const stream_append& a, global_position& last,
                                               timestamp_ns now) {
  if (auto ok = detail::validate_append(a, options()); !ok)
    return std::move(ok).error();
  stream_info s;
  bool exists = false;
  if (auto ok = load_stream(t, a.stream_id, s, &index, &exists); !ok)
    return std::move(ok).error();
  if (s.deleted)
    return make_error(errc::stream_deleted, "stream '" + a.stream_id + "' was deleted");
  if (!a.expected.matches(s.head))
    return make_error(errc::conflict, "stream '" + a.stream_id + "': expected version "
                                        + a.expected.to_string() + ", actual version "
                                        + std::to_string(s.head));
  append_result r{a.stream_id, s.head, 0, 0};
  if (a.events.empty())
    return r;
  char pos_key[8];
  MDB_val pk{8, pos_key};
  auto first_version = s.head + 1;
  for (const auto& e : a.events) {
    auto position = ++last;
    auto version = ++s.head;
    detail::store_be64(pos_key, position);
    MDB_val v{detail::envelope_size(a.stream_id, e), nullptr};
    if (int rc = t.put(dbi(events_table), pk, v, MDB_APPEND | MDB_RESERVE); rc != 0)
      return detail::lmdb_error(rc, "write event");
    detail::encode_envelope(static_cast<char*>(v.mv_data), position, a.stream_id, version,
                            e.timestamp != 0 ? e.timestamp : now, e);
    if (r.first_position == 0)
      r.first_position = position;
  }
  // One index entry for the whole append: its versions and positions are consecutive.
  auto ik = detail::stream_key(a.stream_id, first_version);
  char run[detail::index_value_size];
  detail::encode_index_value(run, r.first_position, a.events.size());
  MDB_val ikv = as_val(ik), iv{sizeof(run), run};
  if (int rc = t.note(mdb_cursor_put(index.native(), &ikv, &iv, 0)); rc != 0)
    return detail::lmdb_error(rc, "write stream index");
  r.last_position = last;
  r.next_expected_version = s.head;
  // The head lives in stream_index; the record is written once, when the stream is born
  // (one B-tree page less to copy and write per append).
  if (!exists) {
    stream_info born;
    born.stream_id = a.stream_id;
    if (auto ok = store_stream(t, born); !ok)
      return std::move(ok).error();
  }
  return r;
}

// -- event_store ----------------------------------------------------------------------------

event_store::event_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
event_store::~event_store() = default;

result<std::unique_ptr<event_store>> event_store::open(const store_options& options) {
  auto env = detail::lmdb_env::open(
    options, {"events", "stream_index", "streams", "snapshots", "meta"}, 0, {"checkpoints"});
  if (!env)
    return std::move(env).error();
  if (auto ok = init_meta(**env); !ok)
    return std::move(ok).error();
  auto p = std::make_unique<impl>();
  p->env = std::move(*env);
  return std::unique_ptr<event_store>{new event_store(std::move(p))};
}

result<append_result> event_store::append(std::string_view stream_id, expected_version expected,
                                          std::vector<new_event> events) {
  std::vector<stream_append> one;
  one.push_back(stream_append{std::string{stream_id}, expected, std::move(events)});
  auto r = append(std::move(one));
  if (!r)
    return std::move(r).error();
  return std::move(r->front());
}

result<std::vector<append_result>> event_store::append(std::vector<stream_append> appends) {
  // Any write error (including a failed expectation) aborts the single transaction,
  // which makes the multi-stream append atomic.
  auto now = now_ns();
  return impl_->env->write([&](detail::txn& t) -> result<std::vector<append_result>> {
    auto last = impl_->load_last_position(t);
    if (!last)
      return std::move(last).error();
    std::vector<append_result> out;
    out.reserve(appends.size());
    detail::cursor index{t, impl_->dbi(stream_index_table)};
    if (!index.ok())
      return detail::lmdb_error(index.rc(), "open cursor");
    for (const auto& a : appends) {
      auto r = impl_->apply(t, index, a, *last, now);
      if (!r)
        return std::move(r).error();
      out.push_back(std::move(*r));
    }
    return out;
  });
}

namespace {

// A failed check inside apply() leaves nothing written for that append; a failed write
// (map full, I/O) leaves a partial append, so it must fail the whole transaction.
bool is_check_failure(errc code) {
  return code == errc::conflict || code == errc::stream_deleted || code == errc::bad_request
         || code == errc::corrupt;
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
    for (auto& e : a.events) {
      recorded_event ev;
      ev.stream_id = a.stream_id;
      ev.version = ++version;
      ev.position = position++;
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

result<batch_outcome> event_store::commit(write_batch& batch, bool collect) {
  auto now = now_ns();
  auto outcome = impl_->env->write([&](detail::txn& t) -> result<batch_outcome> {
    batch_outcome out;
    out.appends.reserve(batch.appends.size());
    auto last = impl_->load_last_position(t);
    if (!last)
      return std::move(last).error();
    detail::cursor index{t, impl_->dbi(stream_index_table)};
    if (!index.ok())
      return detail::lmdb_error(index.rc(), "open cursor");
    for (const auto& a : batch.appends) {
      auto r = impl_->apply(t, index, a, *last, now);
      if (!r && !is_check_failure(r.error().code))
        return std::move(r).error();
      out.appends.push_back(std::move(r));
    }
    for (const auto& s : batch.snapshots)
      if (auto ok = impl_->put_snapshot(t, s); !ok && ok.error().code != errc::bad_request)
        return std::move(ok).error();
    return out;
  });
  if (outcome && collect)
    collect_committed(batch, *outcome, outcome->committed, now);
  return outcome;
}

status event_store::flush() {
  return impl_->env->sync();
}

const store_options& event_store::options() const noexcept {
  return impl_->options();
}

void* event_store::native_handle() noexcept {
  return impl_->env->native();
}

} // namespace annal
