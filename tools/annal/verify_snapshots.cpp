// verify: the snapshots table, and the replay check of a sample of snapshots.
#include <limits>

#include "annal/layout/byte_order.hpp"
#include "annal/layout/stream_key.hpp"
#include "journal_checks.hpp"
#include "annal/layout/lmdb_error.hpp"
#include "annal/layout/snapshot_value.hpp"
#include "annal/layout/index_run.hpp"
#include "annal/layout/stream_record.hpp"

namespace annal::cli {

namespace {

// What the journal knows of a stream inside `t`: its record and its head (the newest
// index run, as event_store::impl::load_stream derives it).
struct head_lookup {
  bool exists = false;
  stream_info info;
};

result<head_lookup> stream_head_in(const raw_read_txn& t, const journal_tables& tables,
                                   std::string_view id) {
  head_lookup out;
  auto rec = t.get(tables.streams, id);
  if (!rec)
    return std::move(rec).error();
  if (!rec->found || !layout::decode_stream_record(rec->value, out.info))
    return out;
  out.exists = true;
  raw_cursor c{t, tables.stream_index};
  if (!c.ok())
    return layout::lmdb_error(c.rc(), "open cursor");
  auto upper = layout::stream_key(id, std::numeric_limits<uint64_t>::max());
  MDB_val k{upper.size(), upper.data()}, v;
  int rc = c.get(k, v, MDB_SET_RANGE);
  rc = c.get(k, v, rc == 0 ? MDB_PREV : MDB_LAST);
  layout::index_run run;
  if (rc == 0 && layout::parse_index_entry(view_of(k), view_of(v), id, run)
      && run.last_version() > out.info.head)
    out.info.head = run.last_version();
  if (auto it = tables.tail.find(std::string{id}); it != tables.tail.end() && !it->second.empty())
    out.info.head = std::max(out.info.head, it->second.back().last_version());
  return out;
}

} // namespace

status check_snapshots(const raw_read_txn& t, const journal_tables& tables,
                       const domain& catalog, uint64_t stride,
                       std::vector<snapshot_record>& sampled, verify_report& report) {
  raw_cursor c{t, tables.snapshots};
  if (!c.ok())
    return layout::lmdb_error(c.rc(), "open cursor");
  uint64_t known = 0;
  MDB_val k, v;
  int rc = c.get(k, v, MDB_FIRST);
  for (; rc == 0; rc = c.get(k, v, MDB_NEXT)) {
    ++report.counts.snapshots;
    auto key = view_of(k);
    auto id_size = key.size() >= 10 ? key.size() - 9 : 0;
    if (id_size == 0 || key[id_size] != '\0' || key.substr(0, id_size).find('\0') != key.npos) {
      report.add(problem{"snapshot", {}, 0, 0, "a malformed snapshot key ("
                                                 + std::to_string(key.size()) + " bytes)"});
      continue;
    }
    std::string id{key.substr(0, id_size)};
    auto version = layout::load_be64(key.data() + id_size + 1);
    snapshot_record s;
    if (version == 0 || !layout::decode_snapshot(id, version, view_of(v), s)) {
      report.add(problem{"snapshot", id, version, 0,
                         "the snapshot is damaged (checksum or structure)"});
      continue;
    }
    auto head = stream_head_in(t, tables, id);
    if (!head)
      return std::move(head).error();
    if (!head->exists) {
      report.add(problem{"snapshot", id, version, 0, "a snapshot of a stream that does not exist"});
      continue;
    }
    if (head->info.deleted) {
      report.add(problem{"snapshot", id, version, 0, "a snapshot of a deleted stream"});
      continue;
    }
    if (version > head->info.head) {
      report.add(problem{"snapshot", id, version, 0,
                         "the snapshot is at v" + std::to_string(version)
                           + ", beyond the stream's head v" + std::to_string(head->info.head)});
      continue;
    }
    if (catalog.replayer(s.type) == nullptr) {
      ++report.counts.snapshots_unknown_type;
      continue;
    }
    if (known++ % stride == 0)
      sampled.push_back(std::move(s));
  }
  if (rc != MDB_NOTFOUND)
    return layout::lmdb_error(rc, "walk the snapshots table");
  return {};
}

void replay_sampled(event_store& store, const domain& catalog,
                    const std::vector<snapshot_record>& sampled, verify_report& report) {
  using verdict = snapshot_check::verdict;
  for (const auto& s : sampled) {
    ++report.counts.snapshots_sampled;
    auto check = (*catalog.replayer(s.type))(store, catalog.registry(), s);
    switch (check.outcome) {
      case verdict::matches: ++report.counts.snapshots_matched; break;
      case verdict::not_replayable: ++report.counts.snapshots_not_replayable; break;
      case verdict::differs:
        report.add(problem{"snapshot_replay", s.stream_id, s.version, 0, check.detail});
        break;
    }
  }
}

} // namespace annal::cli
