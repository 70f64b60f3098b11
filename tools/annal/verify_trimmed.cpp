// verify: the journal's index of deleted and truncated streams (table `trimmed_streams`,
// what a shard move reads instead of every stream record) against the records themselves.
// A journal without the index, or whose backfill has not run yet, has nothing to check.
#include <set>

#include "annal/event_store.hpp"
#include "annal/layout/byte_order.hpp"
#include "annal/layout/lmdb_error.hpp"
#include "annal/layout/stream_record.hpp"
#include "annal/layout/trimmed_key.hpp"
#include "journal_checks.hpp"

namespace annal::cli {

namespace {

using layout::trimmed_key;

// The keys the index must hold: one per deleted or truncated record.
status expected_keys(const raw_read_txn& t, const journal_tables& tables, std::set<std::string>& out) {
  raw_cursor c{t, tables.streams};
  if (!c.ok())
    return layout::lmdb_error(c.rc(), "open cursor");
  MDB_val k, v;
  int rc = c.get(k, v, MDB_FIRST);
  for (; rc == 0; rc = c.get(k, v, MDB_NEXT)) {
    stream_info s;
    auto id = view_of(k);
    if (layout::decode_stream_record(view_of(v), s) && (s.deleted || s.truncated_through > 0))
      out.insert(trimmed_key(shard_of_stream(id, tables.shard_count), id)); // malformed: check_streams
  }
  return rc == MDB_NOTFOUND ? status{} : layout::lmdb_error(rc, "walk the streams table");
}

} // namespace

status check_trimmed(const raw_read_txn& t, const journal_tables& tables, verify_report& report) {
  auto table = t.table("trimmed_streams");
  auto complete = t.get(tables.meta, "trimmed_indexed");
  if (!table || !complete || !complete->found || tables.shard_count == 0)
    return {};
  std::set<std::string> expected;
  if (auto ok = expected_keys(t, tables, expected); !ok)
    return ok;
  raw_cursor c{t, *table};
  if (!c.ok())
    return layout::lmdb_error(c.rc(), "open cursor");
  MDB_val k, v;
  int rc = c.get(k, v, MDB_FIRST);
  for (; rc == 0; rc = c.get(k, v, MDB_NEXT)) {
    std::string key{view_of(k)};
    if (expected.erase(key) == 0)
      report.add(problem{"trimmed_index", key.size() > 2 ? key.substr(2) : key, 0, 0,
                         "an index entry names no deleted or truncated stream of its shard"});
  }
  if (rc != MDB_NOTFOUND)
    return layout::lmdb_error(rc, "walk the trimmed_streams table");
  for (const auto& key : expected)
    report.add(problem{"trimmed_index", key.substr(2), 0, 0,
                       "a deleted or truncated stream is missing from the index of such streams"});
  return {};
}

} // namespace annal::cli
