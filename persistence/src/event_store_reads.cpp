// Read paths of the event store: streams, the global log, heads and stream listings.
// Each read runs in its own LMDB read transaction and never blocks the writer.
#include <optional>
#include <set>

#include "annal/event_store.hpp"

#include "byte_order.hpp"
#include "envelope_codec.hpp"
#include "event_store_impl.hpp"
#include "stream_record.hpp"

namespace annal {

using detail::as_val;
using detail::as_view;

namespace {

// Reads the events of stream runs through one cursor: consecutive positions are a step
// (MDB_NEXT / MDB_PREV), not a search. A missing or damaged record comes back flagged
// corrupt, with what the index knows (stream, version) filled in.
class event_walker {
public:
  event_walker(const detail::txn& t, MDB_dbi events) : c_(t, events) {}
  bool ok() const noexcept { return c_.ok(); }
  int rc() const noexcept { return c_.rc(); }

  void load(global_position position, std::string_view stream_id, stream_version version,
            event_view& out) {
    MDB_val k, v;
    char key[8];
    int rc;
    if (positioned_ && position == last_ + 1) {
      rc = c_.get(k, v, MDB_NEXT);
    } else if (positioned_ && position + 1 == last_) {
      rc = c_.get(k, v, MDB_PREV);
    } else {
      detail::store_be64(key, position);
      k = MDB_val{8, key};
      rc = c_.get(k, v, MDB_SET_KEY);
    }
    positioned_ = rc == 0 && k.mv_size == 8;
    if (positioned_)
      last_ = detail::load_be64(static_cast<const char*>(k.mv_data));
    if (!positioned_ || last_ != position || !detail::decode_envelope(position, as_view(v), out)) {
      out = event_view{};
      out.position = position;
      out.corrupt = true;
    }
    if (out.corrupt || out.stream_id != stream_id || out.version != version) {
      out.corrupt = true;
      out.stream_id = stream_id;
      out.version = version;
    }
  }

private:
  detail::cursor c_;
  global_position last_ = 0;
  bool positioned_ = false;
};

result<std::vector<recorded_event>> collect(
  const std::function<result<uint64_t>(const event_visitor&)>& read) {
  std::vector<recorded_event> out;
  auto r = read([&](const event_view& e) {
    out.push_back(e.to_owned());
    return true;
  });
  if (!r)
    return std::move(r).error();
  return out;
}

} // namespace

result<uint64_t> lmdb_event_store::read_stream(std::string_view stream_id, stream_range range,
                                          const event_visitor& visit) {
  stream_info head;
  return read_stream_and_head(stream_id, range, head, visit);
}

result<uint64_t> lmdb_event_store::read_stream_and_head(std::string_view stream_id,
                                                   stream_range range, stream_info& s,
                                                   const event_visitor& visit) {
  if (auto ok = detail::validate_stream_id(stream_id); !ok)
    return std::move(ok).error();
  return impl_->read_indexed(
    [&](const detail::txn& t, detail::read_marks& m, bool& stale) -> result<uint64_t> {
      s = stream_info{};
      std::vector<detail::index_run> tail;
      // One index cursor for the head and the runs: a short stream's runs share the leaf
      // page the head was found on, and LMDB then seeks within it instead of descending.
      detail::cursor index{t, impl_->dbi(stream_index_table)};
      if (!index.ok())
        return detail::lmdb_error(index.rc(), "open cursor");
      if (auto ok = impl_->load_stream(t, m, stream_id, s, tail, stale, &index); !ok || stale)
        return ok ? result<uint64_t>{uint64_t{0}} : result<uint64_t>{std::move(ok).error()};
      if (s.deleted)
        return make_error(errc::stream_deleted, "stream '" + s.stream_id + "' was deleted");
      uint64_t n = 0;
      if (range.max_count == 0 || range.from > range.to || s.head == 0)
        return n;
      event_walker events{t, impl_->dbi(events_table)};
      if (!events.ok())
        return detail::lmdb_error(events.rc(), "open cursor");
      auto from = std::max<stream_version>(range.from, 1);
      event_view e;
      // Visits the run's versions within the range; false when the read is done.
      auto walk = [&](const detail::index_run& run) {
        auto end = std::min(run.last_version(), range.to);
        for (auto v = std::max(from, run.first_version); v <= end && n < range.max_count; ++v) {
          events.load(run.position_of(v), stream_id, v, e);
          ++n;
          if (!visit(e))
            return false;
        }
        return n < range.max_count && run.last_version() < range.to;
      };
      // The stored runs (older), then the unmerged tail's.
      bool stored_ahead = tail.empty() || tail.front().first_version > from;
      detail::index_run run;
      if (stored_ahead && detail::seek_run(index, stream_id, from, run)) {
        for (;;) {
          if (!tail.empty() && run.first_version >= tail.front().first_version)
            break;
          if (!walk(run))
            return n;
          MDB_val k, val;
          if (index.get(k, val, MDB_NEXT) != 0 || !detail::current_run(k, val, stream_id, run))
            break;
        }
      }
      for (const auto& r : tail)
        if (r.last_version() >= from && !walk(r))
          return n;
      return n;
    });
}

result<std::vector<recorded_event>> lmdb_event_store::read_stream(std::string_view stream_id,
                                                             stream_range range) {
  return collect([&](const event_visitor& v) { return read_stream(stream_id, range, v); });
}

result<std::vector<recorded_event>> lmdb_event_store::read_stream_backward(std::string_view stream_id,
                                                                      stream_version from,
                                                                      uint64_t max_count) {
  if (auto ok = detail::validate_stream_id(stream_id); !ok)
    return std::move(ok).error();
  using out_type = result<std::vector<recorded_event>>;
  return impl_->read_indexed(
    [&](const detail::txn& t, detail::read_marks& m, bool& stale) -> out_type {
      stream_info s;
      std::vector<detail::index_run> tail;
      std::vector<recorded_event> out;
      if (auto ok = impl_->load_stream(t, m, stream_id, s, tail, stale); !ok || stale)
        return ok ? out_type{std::move(out)} : out_type{std::move(ok).error()};
      if (s.deleted)
        return make_error(errc::stream_deleted, "stream '" + s.stream_id + "' was deleted");
      auto top = from == 0 ? s.head : std::min(from, s.head);
      if (max_count == 0 || top == 0)
        return out;
      detail::cursor index{t, impl_->dbi(stream_index_table)};
      event_walker events{t, impl_->dbi(events_table)};
      if (!index.ok() || !events.ok())
        return detail::lmdb_error(index.ok() ? events.rc() : index.rc(), "open cursor");
      event_view e;
      // Visits the run's versions at or below `top`, newest first; false when done.
      auto walk = [&](const detail::index_run& run) {
        for (auto v = std::min(top, run.last_version()); v >= run.first_version; --v) {
          events.load(run.position_of(v), stream_id, v, e);
          out.push_back(e.to_owned());
          if (out.size() >= max_count)
            return false;
        }
        return true;
      };
      for (auto it = tail.rbegin(); it != tail.rend(); ++it)
        if (it->first_version <= top && !walk(*it))
          return out;
      if (!tail.empty())
        top = std::min(top, tail.front().first_version - 1);
      if (top == 0)
        return out;
      // The stored run starting at `top`, or else the one before it (covering or preceding).
      auto start = detail::stream_key(stream_id, top);
      MDB_val k = as_val(start), val;
      detail::index_run run;
      int rc = index.get(k, val, MDB_SET_RANGE);
      if (rc != 0 || !detail::current_run(k, val, stream_id, run) || run.first_version != top)
        rc = index.get(k, val, rc == 0 ? MDB_PREV : MDB_LAST);
      for (; rc == 0 && detail::current_run(k, val, stream_id, run);
           rc = index.get(k, val, MDB_PREV))
        if (!walk(run))
          return out;
      return out;
    });
}

result<uint64_t> lmdb_event_store::read_all(global_position after, uint64_t max_count,
                                       const event_visitor& visit) {
  return impl_->env->read([&](const detail::txn& t) -> result<uint64_t> {
    uint64_t n = 0;
    if (max_count == 0 || after == std::numeric_limits<global_position>::max())
      return n;
    detail::cursor c{t, impl_->dbi(events_table)};
    if (!c.ok())
      return detail::lmdb_error(c.rc(), "open cursor");
    char key[8];
    detail::store_be64(key, after + 1);
    MDB_val k{8, key}, v;
    event_view e;
    for (int rc = c.get(k, v, MDB_SET_RANGE); rc == 0 && n < max_count;
         rc = c.get(k, v, MDB_NEXT)) {
      if (k.mv_size != 8)
        continue;
      auto position = detail::load_be64(static_cast<const char*>(k.mv_data));
      detail::decode_envelope(position, as_view(v), e);
      ++n;
      if (!visit(e))
        break;
    }
    return n;
  });
}

result<uint64_t> lmdb_event_store::read_all_batch(global_position after, uint64_t max_count,
                                             const event_batch_visitor& visit) {
  return impl_->env->read([&](const detail::txn& t) -> result<uint64_t> {
    std::vector<event_view> batch;
    if (max_count == 0 || after == std::numeric_limits<global_position>::max())
      return uint64_t{0};
    batch.reserve(std::min<uint64_t>(max_count, 65536));
    detail::cursor c{t, impl_->dbi(events_table)};
    if (!c.ok())
      return detail::lmdb_error(c.rc(), "open cursor");
    char key[8];
    detail::store_be64(key, after + 1);
    MDB_val k{8, key}, v;
    for (int rc = c.get(k, v, MDB_SET_RANGE); rc == 0 && batch.size() < max_count;
         rc = c.get(k, v, MDB_NEXT)) {
      if (k.mv_size != 8)
        continue;
      batch.emplace_back();
      detail::decode_envelope(detail::load_be64(static_cast<const char*>(k.mv_data)), as_view(v),
                              batch.back());
    }
    if (auto ok = visit(batch); !ok)
      return std::move(ok).error();
    return uint64_t{batch.size()};
  });
}

result<event_chunk> lmdb_event_store::read_chunk(global_position after, uint64_t max_count,
                                           const std::function<bool(const event_view&)>& keep) {
  event_chunk chunk;
  auto n = read_all_batch(after, max_count, [&](const std::vector<event_view>& all) -> status {
    std::size_t count = 0, bytes = 0;
    std::vector<bool> kept(all.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
      if ((kept[i] = keep(all[i]))) {
        ++count;
        bytes += event_chunk::bytes_of(all[i]);
      }
    }
    chunk.reserve(count, bytes);
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (kept[i])
        chunk.keep(all[i]);
      chunk.note_read(all[i].position);
    }
    return {};
  });
  if (!n)
    return std::move(n).error();
  return chunk;
}

result<std::vector<recorded_event>> lmdb_event_store::read_all(global_position after,
                                                          uint64_t max_count) {
  return collect([&](const event_visitor& v) { return read_all(after, max_count, v); });
}

result<stream_info> lmdb_event_store::stream_head(std::string_view stream_id) {
  if (auto ok = detail::validate_stream_id(stream_id); !ok)
    return std::move(ok).error();
  return impl_->read_indexed(
    [&](const detail::txn& t, detail::read_marks& m, bool& stale) -> result<stream_info> {
      stream_info s;
      std::vector<detail::index_run> tail;
      if (auto ok = impl_->load_stream(t, m, stream_id, s, tail, stale, nullptr,
                                       detail::tail_wanted::newest_run);
          !ok)
        return std::move(ok).error();
      return s;
    });
}

result<std::vector<stream_info>> lmdb_event_store::list_streams(std::string_view prefix,
                                                           std::string_view after,
                                                           uint64_t limit) {
  using out_type = result<std::vector<stream_info>>;
  return impl_->read_indexed([&](const detail::txn& t, detail::read_marks& m,
                                 bool& stale) -> out_type {
    std::vector<stream_info> out;
    std::vector<detail::index_run> tail;
    // Streams born since the last merge have runs but no record yet: their ids come from
    // the unmerged tail, merged in id order with the records'.
    std::set<std::string> born;
    if (auto ok = impl_->tail_stream_ids(t, m, prefix, born, stale); !ok || stale)
      return ok ? out_type{std::move(out)} : out_type{std::move(ok).error()};
    detail::cursor c{t, impl_->dbi(streams_table)};
    detail::cursor index{t, impl_->dbi(stream_index_table)};
    if (!c.ok() || !index.ok())
      return detail::lmdb_error(c.ok() ? index.rc() : c.rc(), "open cursor");
    std::string_view start = after.empty() || after < prefix ? prefix : after;
    auto next_born = after.empty() ? born.lower_bound(std::string{start})
                                   : born.upper_bound(std::string{after});
    MDB_val k = as_val(start), v;
    MDB_cursor_op op = start.empty() ? MDB_FIRST : MDB_SET_RANGE;
    int rc = c.get(k, v, op);
    auto record_id = [&]() -> std::optional<std::string_view> {
      for (; rc == 0; rc = c.get(k, v, MDB_NEXT)) {
        auto id = as_view(k);
        if (id.compare(0, prefix.size(), prefix) != 0)
          return std::nullopt;
        if (after.empty() || id > after)
          return id;
      }
      return std::nullopt;
    };
    while (out.size() < limit) {
      auto record = record_id();
      bool from_born = next_born != born.end() && (!record || *next_born <= *record);
      if (!record && !from_born)
        break;
      std::string id{from_born ? std::string_view{*next_born} : *record};
      bool has_record = record && *record == id;
      if (from_born)
        ++next_born;
      if (has_record)
        rc = c.get(k, v, MDB_NEXT);
      stream_info s;
      if (auto ok = impl_->load_stream(t, m, id, s, tail, stale, &index, detail::tail_wanted::newest_run);
          !ok)
        return std::move(ok).error();
      if (stale)
        return out;
      if (has_record || s.head > 0) // else born after this transaction began
        out.push_back(std::move(s));
    }
    return out;
  });
}

result<global_position> lmdb_event_store::last_position() {
  return impl_->env->read(
    [&](const detail::txn& t) { return impl_->load_last_position(t); });
}

} // namespace annal
