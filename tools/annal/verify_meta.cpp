// verify: the meta table, and opening the journal's tables.
#include "annal/layout/byte_order.hpp"
#include "annal/layout/stream_key.hpp"
#include "annal/layout/event_envelope.hpp"
#include "journal_checks.hpp"
#include "annal/layout/lmdb_error.hpp"

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
  if (auto shards = t.table("shards")) {
    out.shards = *shards;
    out.has_shards = true;
  }
  auto meta_u64 = [&](const char* key, uint64_t& v, std::size_t size) -> result<bool> {
    auto r = t.get(out.meta, key);
    if (!r)
      return std::move(r).error();
    if (!r->found || r->value.size() != size)
      return false;
    v = size == 8 ? layout::load_be64(r->value.data()) : layout::load_le<uint16_t>(r->value.data());
    return true;
  };
  uint64_t v = 0;
  auto indexed = meta_u64("indexed_through", v, 8);
  if (!indexed)
    return std::move(indexed).error();
  if (*indexed)
    out.merged.indexed = v;
  if (auto partial = t.get(out.meta, "merge_partial"); !partial)
    return std::move(partial).error();
  else if (partial->found && *indexed) // well-formed: the store refused a malformed one at open
    layout::decode_merge_partial(partial->value, std::numeric_limits<global_position>::max(), out.merged);
  auto count = meta_u64("shard_count", v, 2);
  if (!count)
    return std::move(count).error();
  if (*count && out.has_shards)
    out.shard_count = static_cast<uint16_t>(v);
  auto upgrading = meta_u64("upgrade_through", v, 8);
  if (!upgrading)
    return std::move(upgrading).error();
  out.upgrading = *upgrading;
  // The tail past the stored index: bounded by the store's merge threshold.
  raw_cursor c{t, out.events};
  if (!c.ok())
    return layout::lmdb_error(c.rc(), "open cursor");
  if (out.merged.indexed == std::numeric_limits<global_position>::max())
    return out;
  char key[8];
  layout::store_be64(key, out.merged.indexed + 1);
  MDB_val k{8, key}, val;
  for (int rc = c.get(k, val, MDB_SET_RANGE); rc == 0; rc = c.get(k, val, MDB_NEXT)) {
    if (k.mv_size != 8)
      continue;
    std::string_view id;
    stream_version version = 0;
    if (!layout::peek_envelope(view_of(val), id, version) || version == 0)
      continue; // check_events reports it
    auto position = layout::load_be64(static_cast<const char*>(k.mv_data));
    if (position <= out.merged.indexed_for(id))
      continue; // stored by a slice of a merge
    auto& runs = out.tail[std::string{id}];
    if (!runs.empty() && runs.back().last_version() + 1 == version
        && runs.back().first_position + runs.back().count == position)
      ++runs.back().count;
    else
      runs.push_back(layout::index_run{version, position, 1});
    ++out.tail_events;
  }
  return out;
}

status check_meta(const journal_meta& meta, verify_report& report) {
  auto add = [&](std::string message) { report.add(problem{"meta", {}, 0, 0, std::move(message)}); };
  if (!meta.malformed.empty())
    add("malformed meta record(s): " + meta.malformed);
  if (!meta.has_format_version && meta.malformed.find("format_version") == std::string::npos)
    add("no format_version record");
  else if (meta.has_format_version && meta.format_version != supported_format_version()
           && meta.format_version != 2)
    add("format version " + std::to_string(meta.format_version) + " is not one this build reads");
  if (!meta.has_node_id || meta.node_id.empty())
    add("no node_id record");
  // meta.last_position is only a high-water mark written when deletions removed the
  // newest events; the newest position is otherwise the last key of `events`, so there
  // is nothing to cross-check here.
  return {};
}

} // namespace annal::cli
