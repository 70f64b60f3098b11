// verify: the meta table, and opening the journal's tables.
#include "byte_order.hpp"
#include "journal_checks.hpp"
#include "lmdb_env.hpp"

namespace annal::cli {

result<journal_tables> open_journal_tables(const raw_read_txn& t) {
  journal_tables out;
  struct named {
    const char* name;
    MDB_dbi* dbi;
  };
  for (auto [name, dbi] : {named{"events", &out.events}, named{"stream_index", &out.stream_index},
                           named{"streams", &out.streams}, named{"snapshots", &out.snapshots},
                           named{"meta", &out.meta}}) {
    auto opened = t.table(name);
    if (!opened)
      return std::move(opened).error();
    *dbi = *opened;
  }
  return out;
}

status check_meta(const journal_meta& meta, verify_report& report) {
  auto add = [&](std::string message) { report.add(problem{"meta", {}, 0, 0, std::move(message)}); };
  if (!meta.malformed.empty())
    add("malformed meta record(s): " + meta.malformed);
  if (!meta.has_format_version && meta.malformed.find("format_version") == std::string::npos)
    add("no format_version record");
  else if (meta.has_format_version && meta.format_version != supported_format_version())
    add("format version " + std::to_string(meta.format_version) + " is not one this build reads");
  if (!meta.has_node_id || meta.node_id.empty())
    add("no node_id record");
  // meta.last_position is only a high-water mark written when deletions removed the
  // newest events; the newest position is otherwise the last key of `events`, so there
  // is nothing to cross-check here.
  return {};
}

} // namespace annal::cli
