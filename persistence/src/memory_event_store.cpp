// The in-memory event store: a map of the global log plus per-stream version indexes,
// under one shared mutex (writers exclusive, readers shared).
#include "annal/memory_event_store.hpp"

#include <algorithm>
#include <exception>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "shard.hpp"

namespace annal {

namespace detail {
status validate_append(const stream_append& a, const store_options& o);
status validate_import(const shard_import& chunk, uint16_t shard_count, const store_options& o);
} // namespace detail

namespace {

struct stream_rec {
  stream_info info;
  std::map<stream_version, global_position> events; // version -> position (kept events)
};

error refused_read_only() {
  return make_error(errc::bad_request, "the store is open read-only");
}

event_view view_of(const recorded_event& e) {
  return e.view();
}

// Runs a visitor (user code inside the store): a throw ends the read as io_error.
template <class F>
status visit_guarded(F&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return make_error(errc::io_error, std::string{"a visitor threw: "} + e.what());
  } catch (...) {
    return make_error(errc::io_error, "a visitor threw a non-standard exception");
  }
}

class memory_event_store final : public event_store {
public:
  explicit memory_event_store(store_options o) : options_(std::move(o)) {}

  // -- appends ------------------------------------------------------------------------

  result<append_result> append(std::string_view stream_id, expected_version expected,
                               std::vector<new_event> events) override {
    std::vector<stream_append> one;
    one.push_back(stream_append{std::string{stream_id}, expected, std::move(events)});
    auto r = append(std::move(one));
    if (!r)
      return std::move(r).error();
    return std::move(r->front());
  }

  result<std::vector<append_result>> append(std::vector<stream_append> appends) override {
    if (options_.read_only)
      return refused_read_only();
    std::unique_lock<std::shared_mutex> lock{mx_};
    for (const auto& a : appends) {
      if (auto ok = detail::validate_append(a, options_); !ok)
        return std::move(ok).error();
      if (auto ok = check_fence(a.stream_id); !ok)
        return std::move(ok).error();
    }
    // Check every expectation against the heads as the earlier appends leave them.
    std::map<std::string, stream_version, std::less<>> heads;
    for (const auto& a : appends) {
      auto h = heads.find(a.stream_id);
      stream_version head = 0;
      if (h != heads.end()) {
        head = h->second;
      } else if (auto s = streams_.find(a.stream_id); s != streams_.end()) {
        if (s->second.info.deleted)
          return make_error(errc::stream_deleted, "stream '" + a.stream_id + "' was deleted");
        head = s->second.info.head;
      }
      if (!a.expected.matches(head))
        return make_conflict("stream '" + a.stream_id + "'", a.expected, head);
      heads[a.stream_id] = head + a.events.size();
    }
    std::vector<append_result> out;
    auto ts = now_ns();
    for (auto& a : appends)
      out.push_back(apply(a, ts, nullptr));
    return out;
  }

  result<batch_outcome> commit(write_batch& batch, bool collect) override {
    if (options_.read_only)
      return refused_read_only();
    std::unique_lock<std::shared_mutex> lock{mx_};
    batch_outcome out;
    auto ts = now_ns();
    for (auto& a : batch.appends) {
      if (auto ok = check(a); !ok) {
        out.appends.emplace_back(std::move(ok).error());
        continue;
      }
      out.appends.emplace_back(apply(a, ts, collect ? &out.committed : nullptr));
    }
    for (auto& s : batch.snapshots)
      (void)put_snapshot(s); // a snapshot is an optimisation: one that cannot be kept is dropped
    if (collect)
      batch.appends.clear();
    return out;
  }

  // -- shards moving between nodes --------------------------------------------------

  status fence_shard(uint16_t shard, bool on) override {
    if (shard >= options_.shard_count)
      return make_error(errc::bad_request, "shard " + std::to_string(shard) + " is out of range");
    std::unique_lock<std::shared_mutex> lock{mx_};
    if (auto o = owners_.find(shard); !on && o != owners_.end() && !o->second.owner.empty())
      return make_error(errc::bad_request, "shard " + std::to_string(shard) + " was handed over to node '"
                                             + o->second.owner + "'; only take_over_shard lifts its fence");
    if (fenced_.empty())
      fenced_.assign(options_.shard_count, false);
    fenced_[shard] = on;
    return {};
  }

  bool shard_fenced(uint16_t shard) const override {
    std::shared_lock<std::shared_mutex> lock{mx_};
    return shard < fenced_.size() && fenced_[shard];
  }

  status hand_over_shard(uint16_t shard, std::string_view to, uint64_t epoch) override {
    if (to.empty() || to.size() > 255)
      return make_error(errc::bad_request, "the new owner's id must be 1..255 bytes");
    return record_owner(shard, to, epoch);
  }

  status take_over_shard(uint16_t shard, uint64_t epoch) override {
    return record_owner(shard, {}, epoch);
  }

  result<std::vector<shard_owner_record>> shard_owners() override {
    std::shared_lock<std::shared_mutex> lock{mx_};
    std::vector<shard_owner_record> out;
    for (const auto& [shard, r] : owners_)
      out.push_back(r);
    return out;
  }

  result<import_outcome> import_shard(const shard_import& chunk) override {
    if (options_.read_only)
      return refused_read_only();
    if (auto ok = detail::validate_import(chunk, options_.shard_count, options_); !ok)
      return std::move(ok).error();
    std::unique_lock<std::shared_mutex> lock{mx_};
    auto head = shard_positions_[chunk.shard];
    // Every check before the first write: all or nothing.
    std::map<std::string, stream_version, std::less<>> heads;
    for (const auto& e : chunk.events) {
      if (e.shard_position <= head)
        continue;
      auto h = heads.find(e.stream_id);
      if (h == heads.end()) {
        stream_version at = 0;
        bool exists = false;
        if (auto s = streams_.find(e.stream_id); s != streams_.end()) {
          if (s->second.info.deleted)
            return make_error(errc::stream_deleted, "stream '" + e.stream_id + "' was deleted here");
          at = s->second.info.head;
          exists = true;
        }
        if (e.version <= at || (e.version > at + 1 && exists))
          return make_error(errc::conflict, "stream '" + e.stream_id + "' is at version "
                                              + std::to_string(at) + " here, the copy's event has "
                                              + std::to_string(e.version) + ": the histories differ");
        h = heads.emplace(e.stream_id, e.version).first;
        continue;
      }
      if (e.version != h->second + 1)
        return make_error(errc::conflict, "stream '" + e.stream_id + "' would skip from version "
                                            + std::to_string(h->second) + " to "
                                            + std::to_string(e.version) + ": the histories differ");
      h->second = e.version;
    }
    import_outcome out;
    for (const auto& e : chunk.events) {
      if (e.shard_position <= head) {
        ++out.skipped;
        continue;
      }
      auto& s = streams_[e.stream_id];
      if (s.info.stream_id.empty()) {
        s.info.stream_id = e.stream_id;
        s.info.truncated_through = e.version - 1;
      }
      recorded_event rec = e;
      rec.position = ++last_;
      rec.imported = true;
      s.info.head = e.version;
      s.info.last_position = rec.position;
      s.events.emplace(rec.version, rec.position);
      head = e.shard_position;
      ++out.imported;
      if (out.first_position == 0)
        out.first_position = rec.position;
      out.last_position = rec.position;
      log_.emplace(rec.position, std::move(rec));
    }
    head = std::max(head, chunk.source_head);
    shard_positions_[chunk.shard] = head;
    out.head = head;
    return out;
  }

  // -- reads --------------------------------------------------------------------------

  result<std::vector<recorded_event>> read_stream(std::string_view stream_id,
                                                  stream_range range) override {
    std::vector<recorded_event> out;
    auto n = read_stream(stream_id, range, [&](const event_view& e) {
      out.push_back(e.to_owned());
      return true;
    });
    if (!n)
      return std::move(n).error();
    return out;
  }

  result<std::vector<recorded_event>> read_stream_backward(std::string_view stream_id,
                                                           stream_version from,
                                                           uint64_t max_count) override {
    if (auto ok = validate_stream_id(stream_id); !ok)
      return std::move(ok).error();
    std::shared_lock<std::shared_mutex> lock{mx_};
    std::vector<recorded_event> out;
    auto s = streams_.find(stream_id);
    if (s == streams_.end())
      return out;
    if (s->second.info.deleted)
      return deleted(stream_id);
    auto& evs = s->second.events;
    auto end = from == 0 ? evs.end() : evs.upper_bound(from);
    for (auto i = end; i != evs.begin() && out.size() < max_count;) {
      --i;
      out.push_back(log_.at(i->second));
    }
    return out;
  }

  result<std::vector<recorded_event>> read_all(global_position after, uint64_t max_count) override {
    std::vector<recorded_event> out;
    auto n = read_all(after, max_count, [&](const event_view& e) {
      out.push_back(e.to_owned());
      return true;
    });
    if (!n)
      return std::move(n).error();
    return out;
  }

  result<uint64_t> read_all(global_position after, uint64_t max_count,
                            const event_visitor& visit) override {
    std::shared_lock<std::shared_mutex> lock{mx_};
    uint64_t n = 0;
    auto ok = visit_guarded([&]() -> status {
      for (auto i = log_.upper_bound(after); i != log_.end() && n < max_count; ++i) {
        ++n;
        if (!visit(view_of(i->second)))
          break;
      }
      return {};
    });
    if (!ok)
      return std::move(ok).error();
    return n;
  }

  result<uint64_t> read_all_batch(global_position after, uint64_t max_count,
                                  const event_batch_visitor& visit) override {
    std::shared_lock<std::shared_mutex> lock{mx_};
    std::vector<event_view> views;
    for (auto i = log_.upper_bound(after); i != log_.end() && views.size() < max_count; ++i)
      views.push_back(view_of(i->second));
    if (views.empty())
      return uint64_t{0};
    auto ok = visit_guarded([&] { return visit(views); });
    if (!ok)
      return std::move(ok).error();
    return static_cast<uint64_t>(views.size());
  }

  result<event_chunk> read_chunk(global_position after, uint64_t max_count,
                                 const std::function<bool(const event_view&)>& keep) override {
    std::shared_lock<std::shared_mutex> lock{mx_};
    event_chunk chunk;
    uint64_t n = 0;
    auto ok = visit_guarded([&]() -> status {
      for (auto i = log_.upper_bound(after); i != log_.end() && n < max_count; ++i, ++n) {
        auto v = view_of(i->second);
        chunk.note_read(v.position);
        if (keep(v))
          chunk.keep(v);
      }
      return {};
    });
    if (!ok)
      return std::move(ok).error();
    return chunk;
  }

  result<shard_chunk> read_shard(const shard_range& range) override {
    if (options_.shard_count == 0 || range.shard >= options_.shard_count)
      return make_error(errc::bad_request, "shard " + std::to_string(range.shard)
                                             + " is out of range");
    std::shared_lock<std::shared_mutex> lock{mx_};
    shard_chunk out;
    out.next_hint = range.from_position;
    auto h = shard_positions_.find(range.shard);
    out.head = h == shard_positions_.end() ? 0 : h->second;
    if (range.after >= out.head) {
      out.at_end = true;
      return out;
    }
    if (range.max_count == 0)
      return out;
    uint64_t scanned = 0, kept = 0;
    auto i = log_.upper_bound(range.from_position);
    for (; i != log_.end(); ++i) {
      const auto& e = i->second;
      out.next_hint = e.position;
      out.events.note_read(e.position);
      if (e.shard == range.shard && e.shard_position > range.after) {
        out.events.keep(view_of(e));
        if (e.shard_position >= out.head) {
          out.at_end = true;
          return out;
        }
        if (++kept >= range.max_count)
          return out;
      }
      if (++scanned >= event_store::shard_scan_budget)
        return out;
    }
    out.at_end = true;
    return out;
  }

  result<uint64_t> read_stream(std::string_view stream_id, stream_range range,
                               const event_visitor& visit) override {
    if (auto ok = validate_stream_id(stream_id); !ok)
      return std::move(ok).error();
    std::shared_lock<std::shared_mutex> lock{mx_};
    auto s = streams_.find(stream_id);
    if (s == streams_.end())
      return uint64_t{0};
    if (s->second.info.deleted)
      return deleted(stream_id);
    uint64_t n = 0;
    auto ok = visit_guarded([&]() -> status {
      auto& evs = s->second.events;
      for (auto i = evs.lower_bound(range.from);
           i != evs.end() && i->first <= range.to && n < range.max_count; ++i) {
        ++n;
        if (!visit(view_of(log_.at(i->second))))
          break;
      }
      return {};
    });
    if (!ok)
      return std::move(ok).error();
    return n;
  }

  result<stream_info> stream_head(std::string_view stream_id) override {
    if (auto ok = validate_stream_id(stream_id); !ok)
      return std::move(ok).error();
    std::shared_lock<std::shared_mutex> lock{mx_};
    if (auto s = streams_.find(stream_id); s != streams_.end())
      return s->second.info;
    return stream_info{std::string{stream_id}, 0, 0, 0, false};
  }

  result<std::vector<stream_info>> list_streams(std::string_view prefix, std::string_view after,
                                                uint64_t limit) override {
    std::shared_lock<std::shared_mutex> lock{mx_};
    std::vector<stream_info> out;
    auto i = after.empty() ? streams_.lower_bound(prefix) : streams_.upper_bound(after);
    if (!after.empty() && after < prefix)
      i = streams_.lower_bound(prefix);
    for (; i != streams_.end() && out.size() < limit; ++i) {
      if (i->first.compare(0, prefix.size(), prefix) != 0)
        break;
      out.push_back(i->second.info);
    }
    return out;
  }

  result<global_position> last_position() override {
    std::shared_lock<std::shared_mutex> lock{mx_};
    return last_;
  }

  // -- stream maintenance -------------------------------------------------------------

  status truncate_stream(std::string_view stream_id, stream_version through) override {
    return change_stream(stream_id, [&](stream_rec& s) -> status {
      auto upto = std::min(through, s.info.head);
      if (upto <= s.info.truncated_through)
        return {};
      erase_events(s, upto);
      s.info.truncated_through = upto;
      return {};
    });
  }

  status import_stream_record(const stream_info& source) override {
    if (auto ok = validate_stream_id(source.stream_id); !ok)
      return ok;
    if (options_.read_only)
      return refused_read_only();
    std::unique_lock<std::shared_mutex> lock{mx_};
    auto i = streams_.find(source.stream_id);
    if (!source.deleted && (i == streams_.end() || source.truncated_through <= i->second.info.truncated_through))
      return {};
    auto& s = streams_[source.stream_id];
    s.info.stream_id = source.stream_id;
    if (s.info.deleted)
      return {};
    auto upto = source.deleted ? s.info.head : std::min(source.truncated_through, s.info.head);
    erase_events(s, upto);
    if (source.deleted) {
      snapshots_.erase(s.info.stream_id);
      s.info.head = std::max(s.info.head, source.head);
      s.info.deleted = true;
      upto = s.info.head;
    }
    s.info.truncated_through = std::max(s.info.truncated_through, upto);
    return {};
  }

  status delete_stream(std::string_view stream_id) override {
    return change_stream(stream_id, [&](stream_rec& s) -> status {
      if (s.info.head == 0)
        return make_error(errc::not_found, "no stream '" + s.info.stream_id + "'");
      erase_events(s, s.info.head);
      snapshots_.erase(s.info.stream_id);
      s.info.deleted = true;
      s.info.truncated_through = s.info.head;
      return {};
    });
  }

  // -- snapshots ----------------------------------------------------------------------

  status save_snapshot(snapshot_record snapshot) override {
    if (options_.read_only)
      return refused_read_only();
    std::unique_lock<std::shared_mutex> lock{mx_};
    return put_snapshot(snapshot);
  }

  result<std::optional<snapshot_record>> load_snapshot(std::string_view stream_id,
                                                       snapshot_bounds bounds) override {
    std::shared_lock<std::shared_mutex> lock{mx_};
    std::optional<snapshot_record> out;
    auto s = snapshots_.find(stream_id);
    if (s == snapshots_.end())
      return out;
    for (auto i = s->second.rbegin(); i != s->second.rend(); ++i)
      if (bounds.contains(i->first, i->second.timestamp))
        return std::optional<snapshot_record>{i->second};
    return out;
  }

  status delete_snapshot(std::string_view stream_id, stream_version version) override {
    if (options_.read_only)
      return refused_read_only();
    std::unique_lock<std::shared_mutex> lock{mx_};
    if (auto s = snapshots_.find(stream_id); s != snapshots_.end())
      s->second.erase(version);
    return {};
  }

  result<uint64_t> delete_snapshots(std::string_view stream_id, snapshot_bounds bounds) override {
    if (options_.read_only)
      return refused_read_only();
    std::unique_lock<std::shared_mutex> lock{mx_};
    return erase_snapshots(stream_id, bounds);
  }

  // -- environment --------------------------------------------------------------------

  status flush() override { return {}; }

  result<store_stats> stats() override {
    std::shared_lock<std::shared_mutex> lock{mx_};
    store_stats st;
    st.events = log_.size();
    st.streams = streams_.size();
    for (const auto& [id, snaps] : snapshots_)
      st.snapshots += snaps.size();
    st.last_position = last_;
    return st;
  }

  const store_options& options() const noexcept override { return options_; }

private:
  static error deleted(std::string_view stream_id) {
    return make_error(errc::stream_deleted, "stream '" + std::string{stream_id} + "' was deleted");
  }

  status record_owner(uint16_t shard, std::string_view owner, uint64_t epoch) {
    if (shard >= options_.shard_count)
      return make_error(errc::bad_request, "shard " + std::to_string(shard) + " is out of range");
    if (epoch == 0)
      return make_error(errc::bad_request, "an owner's epoch starts at 1");
    std::unique_lock<std::shared_mutex> lock{mx_};
    owners_[shard] = shard_owner_record{shard, std::string{owner}, epoch};
    if (fenced_.empty())
      fenced_.assign(options_.shard_count, false);
    fenced_[shard] = !owner.empty();
    return {};
  }

  // REQUIRES: a lock.
  status check_fence(std::string_view stream_id) const {
    if (fenced_.empty() || options_.shard_count == 0)
      return {};
    auto shard = detail::shard_of(stream_id, options_.shard_count);
    if (!fenced_[shard])
      return {};
    if (auto o = owners_.find(shard); o != owners_.end() && !o->second.owner.empty())
      return make_error(errc::unavailable, "shard " + std::to_string(shard) + " moved to node '"
                                             + o->second.owner + "'");
    return make_error(errc::unavailable, "shard " + std::to_string(shard)
                                           + " is fenced (moving to another node); retry later");
  }

  // REQUIRES: the exclusive lock.
  status check(const stream_append& a) const {
    if (auto ok = detail::validate_append(a, options_); !ok)
      return ok;
    if (auto ok = check_fence(a.stream_id); !ok)
      return ok;
    stream_version head = 0;
    if (auto s = streams_.find(a.stream_id); s != streams_.end()) {
      if (s->second.info.deleted)
        return make_error(errc::stream_deleted, "stream '" + a.stream_id + "' was deleted");
      head = s->second.info.head;
    }
    if (!a.expected.matches(head))
      return make_conflict("stream '" + a.stream_id + "'", a.expected, head);
    return {};
  }

  // Writes a checked append. REQUIRES: the exclusive lock.
  append_result apply(stream_append& a, timestamp_ns ts, std::vector<recorded_event>* committed) {
    auto& s = streams_[a.stream_id];
    s.info.stream_id = a.stream_id;
    append_result r{a.stream_id, s.info.head, 0, 0, 0, 0};
    uint16_t shard = options_.shard_count > 0 ? detail::shard_of(a.stream_id, options_.shard_count) : 0;
    for (auto& e : a.events) {
      recorded_event rec;
      rec.stream_id = a.stream_id;
      rec.version = ++s.info.head;
      rec.position = ++last_;
      rec.type = std::move(e.type);
      rec.schema_version = e.schema_version;
      rec.timestamp = e.timestamp != 0 ? e.timestamp : ts;
      rec.metadata = std::move(e.metadata);
      rec.payload = std::move(e.payload);
      rec.shard = shard;
      rec.shard_position = options_.shard_count > 0 ? ++shard_positions_[shard] : 0;
      s.events.emplace(rec.version, rec.position);
      s.info.last_position = rec.position;
      if (r.first_position == 0)
        r.first_position = rec.position;
      r.last_position = rec.position;
      r.shard = rec.shard;
      r.last_shard_position = rec.shard_position;
      if (committed)
        committed->push_back(rec);
      log_.emplace(rec.position, std::move(rec));
    }
    r.next_expected_version = s.info.head;
    return r;
  }

  // REQUIRES: the exclusive lock.
  void erase_events(stream_rec& s, stream_version through) {
    for (auto i = s.events.begin(); i != s.events.end() && i->first <= through;) {
      log_.erase(i->second);
      i = s.events.erase(i);
    }
  }

  template <class F>
  status change_stream(std::string_view stream_id, F&& change) {
    if (auto ok = validate_stream_id(stream_id); !ok)
      return ok;
    if (options_.read_only)
      return refused_read_only();
    std::unique_lock<std::shared_mutex> lock{mx_};
    if (auto ok = check_fence(stream_id); !ok)
      return ok;
    auto i = streams_.find(stream_id);
    if (i == streams_.end()) { // an unknown stream: head 0, nothing recorded
      stream_rec none;
      none.info.stream_id = std::string{stream_id};
      return change(none);
    }
    if (i->second.info.deleted)
      return make_error(errc::stream_deleted, "stream '" + i->first + "' was deleted");
    return change(i->second);
  }

  // REQUIRES: the exclusive lock.
  status put_snapshot(const snapshot_record& s) {
    if (auto ok = validate_stream_id(s.stream_id); !ok)
      return ok;
    if (s.version == 0)
      return make_error(errc::bad_request, "a snapshot needs a stream version >= 1");
    if (s.type.empty() || s.type.size() > 255)
      return make_error(errc::bad_request, "snapshot type name must be 1..255 bytes");
    if (s.state.size() > options_.max_payload_size)
      return make_error(errc::bad_request, "snapshot of " + std::to_string(s.state.size())
                                             + " bytes exceeds the payload limit");
    auto& snaps = snapshots_[s.stream_id];
    auto& kept = snaps[s.version] = s;
    if (kept.timestamp == 0)
      kept.timestamp = now_ns();
    auto keep = options_.snapshots_to_keep;
    while (keep > 0 && snaps.size() > keep)
      snaps.erase(snaps.begin());
    return {};
  }

  // REQUIRES: the exclusive lock.
  uint64_t erase_snapshots(std::string_view stream_id, const snapshot_bounds& bounds) {
    auto s = snapshots_.find(stream_id);
    if (s == snapshots_.end())
      return 0;
    uint64_t n = 0;
    for (auto i = s->second.begin(); i != s->second.end();) {
      if (bounds.contains(i->first, i->second.timestamp)) {
        i = s->second.erase(i);
        ++n;
      } else {
        ++i;
      }
    }
    return n;
  }

  store_options options_;
  mutable std::shared_mutex mx_;
  std::map<global_position, recorded_event> log_;
  std::map<std::string, stream_rec, std::less<>> streams_;
  std::map<std::string, std::map<stream_version, snapshot_record>, std::less<>> snapshots_;
  std::map<uint16_t, uint64_t> shard_positions_;
  std::vector<bool> fenced_; // by shard (fence_shard)
  std::map<uint16_t, shard_owner_record> owners_;
  global_position last_ = 0;
};

} // namespace

std::unique_ptr<event_store> make_memory_event_store(const store_options& options) {
  return std::make_unique<memory_event_store>(options);
}

} // namespace annal
