// verify: the events table, in position order.
#include "annal/layout/byte_order.hpp"
#include "annal/layout/stream_key.hpp"
#include "annal/layout/event_envelope.hpp"
#include "journal_checks.hpp"
#include "annal/layout/lmdb_error.hpp"
#include "annal/layout/shard.hpp"
#include "annal/layout/index_run.hpp"

namespace annal::cli {

namespace {

void check_payload(const event_registry& registry, const event_view& e, verify_report& report) {
  if (!registry.contains(e.type)) {
    report.unknown(e.type, e.schema_version, false);
    return;
  }
  auto rendered = registry.to_json(e.type, e.schema_version, e.payload);
  if (rendered) {
    ++report.counts.payloads_decoded;
    return;
  }
  // A newer schema version than registered, or a missing upcaster: unknown, not damage.
  if (rendered.error().code == errc::unknown_event_type) {
    report.unknown(e.type, e.schema_version, true);
    return;
  }
  report.add(problem{"payload", std::string{e.stream_id}, e.version, e.position,
                     std::string{e.type} + " v" + std::to_string(e.schema_version)
                       + " does not decode: " + rendered.error().message});
}

// The run of the stream index covering `e` must exist and map its version to its
// position. Events of one append share a run: the last one found is tried first.
class index_backref {
public:
  index_backref(const raw_read_txn& t, const journal_tables& tables)
    : index_(t, tables.stream_index) {}

  status check(const event_view& e, verify_report& report) {
    if (!index_.ok())
      return layout::lmdb_error(index_.rc(), "open cursor");
    if (!(have_ && stream_ == e.stream_id && run_.covers(e.version))) {
      if (auto ok = find(e); !ok)
        return ok;
    }
    std::string where = std::string{e.stream_id} + " v" + std::to_string(e.version);
    if (!have_) {
      report.add(problem{"event_index", std::string{e.stream_id}, e.version, e.position,
                         "no stream_index entry covers " + where
                           + " (the event is unreachable from its stream)"});
      return {};
    }
    if (run_.position_of(e.version) != e.position)
      report.add(problem{"event_index", std::string{e.stream_id}, e.version, e.position,
                         "the stream_index maps " + where + " to position "
                           + std::to_string(run_.position_of(e.version))});
    return {};
  }

private:
  // The run of e's stream starting at or before e.version, if it covers it.
  status find(const event_view& e) {
    have_ = false;
    stream_.assign(e.stream_id);
    auto key = layout::stream_key(e.stream_id, e.version);
    MDB_val k{key.size(), key.data()}, v;
    int rc = index_.get(k, v, MDB_SET_RANGE);
    if (rc != 0 && rc != MDB_NOTFOUND)
      return layout::lmdb_error(rc, "seek the stream index");
    if (rc == 0 && layout::parse_index_entry(view_of(k), view_of(v), e.stream_id, run_)
        && run_.first_version == e.version) {
      have_ = true;
      return {};
    }
    rc = index_.get(k, v, rc == 0 ? MDB_PREV : MDB_LAST);
    if (rc != 0 && rc != MDB_NOTFOUND)
      return layout::lmdb_error(rc, "seek the stream index");
    have_ = rc == 0 && layout::parse_index_entry(view_of(k), view_of(v), e.stream_id, run_)
            && run_.covers(e.version);
    return {};
  }

  raw_cursor index_;
  bool have_ = false;
  std::string stream_;
  layout::index_run run_;
};

// Shards: the event's shard is its stream's; positions rise per shard; none passes the
// head kept in `shards`.
class shard_check {
public:
  explicit shard_check(const raw_read_txn& t, const journal_tables& tables)
    : t_(t), tables_(tables), newest_(tables.shard_count, 0) {}

  void check(const event_view& e, std::string_view bytes, verify_report& report) {
    if (tables_.shard_count == 0)
      return;
    auto format = static_cast<uint8_t>(bytes[8]);
    if (format != layout::envelope_format) {
      if (!tables_.upgrading)
        report.add(problem{"event_shard", std::string{e.stream_id}, e.version, e.position,
                           "an event without a shard in a journal of format 3 (not upgraded)"});
      return;
    }
    auto want = layout::shard_of(e.stream_id, tables_.shard_count);
    if (e.shard != want) {
      report.add(problem{"event_shard", std::string{e.stream_id}, e.version, e.position,
                         "shard " + std::to_string(e.shard) + " instead of "
                           + std::to_string(want)});
      return;
    }
    auto& last = newest_[want];
    if (e.shard_position <= last)
      report.add(problem{"event_shard", std::string{e.stream_id}, e.version, e.position,
                         "shard " + std::to_string(want) + " position "
                           + std::to_string(e.shard_position) + " does not follow "
                           + std::to_string(last)});
    else if (e.shard_position != last + 1)
      ++gaps_;
    last = std::max(last, e.shard_position);
  }

  // Each shard's head in `shards` is at least its newest event's shard position (deleted
  // events leave gaps and may have been the newest).
  status finish(verify_report& report) {
    report.counts.shard_gaps = gaps_;
    if (tables_.shard_count == 0)
      return {};
    for (uint16_t shard = 0; shard < tables_.shard_count; ++shard) {
      char key[2];
      layout::store_be16(key, shard);
      auto head = t_.get(tables_.shards, std::string_view{key, 2});
      if (!head)
        return std::move(head).error();
      uint64_t stored = head->found && head->value.size() == 8 ? layout::load_be64(head->value.data()) : 0;
      if (head->found && head->value.size() != 8)
        report.add(problem{"shards", {}, 0, 0, "malformed head of shard " + std::to_string(shard)});
      else if (stored < newest_[shard])
        report.add(problem{"shards", {}, 0, 0,
                           "shard " + std::to_string(shard) + " has head "
                             + std::to_string(stored) + " but an event at shard position "
                             + std::to_string(newest_[shard])});
    }
    return {};
  }

private:
  const raw_read_txn& t_;
  const journal_tables& tables_;
  std::vector<uint64_t> newest_;
  uint64_t gaps_ = 0;
};

} // namespace

status check_events(const raw_read_txn& t, const journal_tables& tables,
                    const event_registry& registry, verify_report& report) {
  raw_cursor c{t, tables.events};
  if (!c.ok())
    return layout::lmdb_error(c.rc(), "open cursor");
  index_backref backref{t, tables};
  shard_check shards{t, tables};
  MDB_val k, v;
  int rc = c.get(k, v, MDB_FIRST);
  for (; rc == 0; rc = c.get(k, v, MDB_NEXT)) {
    ++report.counts.events;
    if (k.mv_size != 8) {
      report.add(problem{"event_key", {}, 0, 0, "a key of " + std::to_string(k.mv_size)
                                                  + " bytes in the events table (positions "
                                                    "are 8 bytes)"});
      continue;
    }
    auto position = layout::load_be64(static_cast<const char*>(k.mv_data));
    if (position == 0)
      report.add(problem{"event_key", {}, 0, 0, "an event at position 0 (never assigned)"});
    event_view e;
    if (!layout::decode_envelope(position, view_of(v), e)) {
      report.add(problem{"event_envelope", {}, 0, position,
                         "malformed envelope (" + std::to_string(v.mv_size) + " bytes)"});
      continue;
    }
    if (e.corrupt) {
      // The fields are best effort: named for the operator, not checked further.
      report.add(problem{"event_checksum", std::string{e.stream_id}, e.version, position,
                         "checksum mismatch: the stored bytes were damaged"});
      continue;
    }
    if (e.version == 0)
      report.add(problem{"event_key", std::string{e.stream_id}, 0, position,
                         "an event with stream version 0"});
    // Past indexed_through the index is the tail, built from these very events.
    if (position <= tables.merged.indexed_for(e.stream_id))
      if (auto ok = backref.check(e, report); !ok)
        return ok;
    shards.check(e, view_of(v), report);
    check_payload(registry, e, report);
  }
  if (rc != MDB_NOTFOUND)
    return layout::lmdb_error(rc, "walk the events table");
  return shards.finish(report);
}

} // namespace annal::cli
