// verify: the events table, in position order.
#include "byte_order.hpp"
#include "envelope_codec.hpp"
#include "journal_checks.hpp"
#include "lmdb_env.hpp"
#include "stream_index_codec.hpp"

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
      return detail::lmdb_error(index_.rc(), "open cursor");
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
    auto key = detail::stream_key(e.stream_id, e.version);
    MDB_val k{key.size(), key.data()}, v;
    int rc = index_.get(k, v, MDB_SET_RANGE);
    if (rc != 0 && rc != MDB_NOTFOUND)
      return detail::lmdb_error(rc, "seek the stream index");
    if (rc == 0 && detail::parse_index_entry(view_of(k), view_of(v), e.stream_id, run_)
        && run_.first_version == e.version) {
      have_ = true;
      return {};
    }
    rc = index_.get(k, v, rc == 0 ? MDB_PREV : MDB_LAST);
    if (rc != 0 && rc != MDB_NOTFOUND)
      return detail::lmdb_error(rc, "seek the stream index");
    have_ = rc == 0 && detail::parse_index_entry(view_of(k), view_of(v), e.stream_id, run_)
            && run_.covers(e.version);
    return {};
  }

  raw_cursor index_;
  bool have_ = false;
  std::string stream_;
  detail::index_run run_;
};

} // namespace

status check_events(const raw_read_txn& t, const journal_tables& tables,
                    const event_registry& registry, verify_report& report) {
  raw_cursor c{t, tables.events};
  if (!c.ok())
    return detail::lmdb_error(c.rc(), "open cursor");
  index_backref backref{t, tables};
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
    auto position = detail::load_be64(static_cast<const char*>(k.mv_data));
    if (position == 0)
      report.add(problem{"event_key", {}, 0, 0, "an event at position 0 (never assigned)"});
    event_view e;
    if (!detail::decode_envelope(position, view_of(v), e)) {
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
    if (auto ok = backref.check(e, report); !ok)
      return ok;
    check_payload(registry, e, report);
  }
  if (rc != MDB_NOTFOUND)
    return detail::lmdb_error(rc, "walk the events table");
  return {};
}

} // namespace annal::cli
