// verify: the stream index against the streams table and the events it points to. An
// index entry is a run (one append): key = stream id, NUL, BE first version; value = BE
// first position, BE count. Both tables are ordered by stream id, so one merged walk
// checks each stream in O(1) memory.
#include <limits>
#include <optional>

#include "annal/layout/byte_order.hpp"
#include "annal/layout/stream_key.hpp"
#include "annal/layout/event_envelope.hpp"
#include "journal_checks.hpp"
#include "annal/layout/lmdb_error.hpp"
#include "annal/layout/index_run.hpp"
#include "annal/layout/stream_record.hpp"

namespace annal::cli {

namespace {

std::string range_text(stream_version from, stream_version to) {
  return from == to ? "v" + std::to_string(from)
                    : "v" + std::to_string(from) + "..v" + std::to_string(to);
}

class stream_walk {
public:
  stream_walk(const raw_read_txn& t, const journal_tables& tables, verify_report& report)
    : t_(t), tables_(tables), report_(report), records_(t, tables.streams),
      events_(t, tables.events) {}

  status run() {
    if (!records_.ok() || !events_.ok())
      return layout::lmdb_error(records_.ok() ? events_.rc() : records_.rc(), "open cursor");
    MDB_stat st{};
    if (int rc = mdb_stat(t_.get(), tables_.events, &st); rc != 0)
      return layout::lmdb_error(rc, "mdb_stat");
    total_events_ = st.ms_entries;
    record_rc_ = records_.get(rk_, rv_, MDB_FIRST);
    raw_cursor index{t_, tables_.stream_index};
    if (!index.ok())
      return layout::lmdb_error(index.rc(), "open cursor");
    MDB_val k, v;
    int rc = index.get(k, v, MDB_FIRST);
    for (; rc == 0; rc = index.get(k, v, MDB_NEXT)) {
      ++report_.counts.index_entries;
      auto key = view_of(k);
      auto id_size = key.size() >= 10 ? key.size() - 9 : 0;
      if (id_size == 0 || key[id_size] != '\0' || key.substr(0, id_size).find('\0') != key.npos) {
        report_.add(problem{"index_key", {}, 0, 0, "a malformed stream_index key ("
                                                     + std::to_string(key.size()) + " bytes)"});
        continue;
      }
      auto id = key.substr(0, id_size);
      if (!in_group_ || id != group_) {
        if (auto ok = end_group(); !ok)
          return ok;
        if (auto ok = tail_groups_before(id); !ok)
          return ok;
        if (auto ok = start_group(id); !ok)
          return ok;
      }
      if (auto ok = check_entry(layout::load_be64(key.data() + id_size + 1), view_of(v)); !ok)
        return ok;
    }
    if (rc != MDB_NOTFOUND)
      return layout::lmdb_error(rc, "walk the stream index");
    if (auto ok = end_group(); !ok)
      return ok;
    if (auto ok = tail_groups_before(std::nullopt); !ok)
      return ok;
    report_.counts.tail_events = tables_.tail_events;
    return records_before(std::nullopt);
  }

private:
  void add(const char* check, stream_version version, global_position position, std::string msg) {
    report_.add(problem{check, group_, version, position, std::move(msg)});
  }

  // Records of streams without index entries, up to `id` (exclusive; none: all).
  status records_before(std::optional<std::string_view> id) {
    for (; record_rc_ == 0 && (!id || view_of(rk_) < *id);
         record_rc_ = records_.get(rk_, rv_, MDB_NEXT)) {
      ++report_.counts.streams;
      std::string sid{view_of(rk_)};
      stream_info s;
      if (!layout::decode_stream_record(view_of(rv_), s)) {
        report_.add(problem{"stream_record", sid, 0, 0, "malformed stream record"});
        continue;
      }
      bool emptied = s.deleted || (s.head > 0 && s.truncated_through >= s.head);
      if (!emptied)
        report_.add(problem{"stream_record", sid, 0, 0,
                            "the stream has a record but no events in the index (head v"
                              + std::to_string(s.head) + ", truncated through v"
                              + std::to_string(s.truncated_through) + ")"});
    }
    if (record_rc_ != 0 && record_rc_ != MDB_NOTFOUND)
      return layout::lmdb_error(record_rc_, "walk the streams table");
    return {};
  }

  // `tail_only`: the stream has runs only in the unmerged tail (born since the last merge),
  // so it may have no record yet: the merge writes it with the stream's first stored run.
  status start_group(std::string_view id, bool tail_only = false) {
    if (auto ok = records_before(id); !ok)
      return ok;
    group_.assign(id);
    in_group_ = true;
    have_record_ = false;
    record_ = stream_info{};
    entries_ = 0;
    prev_version_ = 0;
    prev_position_ = 0;
    reported_deleted_ = false;
    if (record_rc_ == 0 && view_of(rk_) == id) {
      ++report_.counts.streams;
      if (layout::decode_stream_record(view_of(rv_), record_))
        have_record_ = true;
      else
        add("stream_record", 0, 0, "malformed stream record");
      record_rc_ = records_.get(rk_, rv_, MDB_NEXT);
    } else if (tail_only) {
      ++report_.counts.streams;
    } else {
      add("stream_record", 0, 0, "the stream has index entries but no record in the streams table");
    }
    return {};
  }

  // Streams with runs only in the unmerged tail, up to `id` (exclusive; none: all).
  status tail_groups_before(std::optional<std::string_view> id) {
    while (tail_ != tables_.tail.end() && (!id || std::string_view{tail_->first} < *id)) {
      if (auto ok = start_group(tail_->first, true); !ok)
        return ok;
      if (auto ok = end_group(); !ok)
        return ok;
    }
    return {};
  }

  status check_entry(stream_version first, std::string_view value, bool from_tail = false) {
    if (have_record_ && record_.deleted && !reported_deleted_) {
      add("stream_record", first, 0, "the stream was deleted but the index still holds its events");
      reported_deleted_ = true;
    }
    layout::index_run run;
    if (value.size() != layout::index_value_size) {
      add("index_value", first, 0, "malformed stream_index value (" + std::to_string(value.size())
                                     + " bytes)");
      return {};
    }
    run.first_version = first;
    run.first_position = layout::load_be64(value.data());
    run.count = layout::load_be64(value.data() + 8);
    // A damaged count must not send the walk over 2^64 versions.
    if (first == 0 || run.count == 0 || run.count > total_events_
        || run.count > std::numeric_limits<uint64_t>::max() - first
        || run.count > std::numeric_limits<uint64_t>::max() - run.first_position) {
      add("index_value", first, run.first_position,
          "an impossible run (v" + std::to_string(first) + ", " + std::to_string(run.count)
            + " events from position " + std::to_string(run.first_position) + ")");
      return {};
    }
    if (!from_tail)
      report_.counts.indexed_events += run.count;
    stream_version expected = entries_ == 0 ? (have_record_ ? record_.truncated_through + 1 : 1)
                                            : prev_version_ + 1;
    if (first > expected)
      add("stream_versions", first, 0,
          "gap: " + range_text(expected, first - 1) + " missing before v" + std::to_string(first));
    else if (first < expected && entries_ == 0)
      add("stream_versions", first, 0,
          "v" + std::to_string(first) + " is indexed although the stream was truncated through v"
            + std::to_string(record_.truncated_through));
    else if (first < expected)
      add("stream_versions", first, 0,
          "runs overlap: " + range_text(first, run.last_version()) + " after v"
            + std::to_string(prev_version_));
    if (entries_ > 0 && run.first_position <= prev_position_)
      add("stream_positions", first, run.first_position,
          "position " + std::to_string(run.first_position) + " is not after the previous run's "
            + std::to_string(prev_position_));
    ++entries_;
    prev_version_ = std::max(prev_version_, run.last_version());
    prev_position_ = run.first_position + run.count - 1;
    return check_targets(run);
  }

  // Each event of the run must exist at its position and be this stream's version. The
  // positions are consecutive, so the cursor steps instead of searching.
  status check_targets(const layout::index_run& run) {
    bool stepping = false; // the cursor stands on the previous position of the run
    for (uint64_t i = 0; i < run.count; ++i) {
      auto version = run.first_version + i;
      auto position = run.first_position + i;
      char key[8];
      layout::store_be64(key, position);
      MDB_val k{8, key}, v;
      int rc = events_.get(k, v, stepping ? MDB_NEXT : MDB_SET_KEY);
      if (rc != 0 && rc != MDB_NOTFOUND)
        return layout::lmdb_error(rc, "walk the events of a run");
      stepping = rc == 0 && k.mv_size == 8
                 && layout::load_be64(static_cast<const char*>(k.mv_data)) == position;
      if (!stepping) {
        add("index_target", version, position, "the index maps v" + std::to_string(version)
                                                 + " to position " + std::to_string(position)
                                                 + ", which holds no event");
        continue;
      }
      event_view e;
      if (!layout::decode_envelope(position, view_of(v), e) || e.corrupt)
        continue; // damaged: check_events reports it
      if (e.stream_id != group_ || e.version != version)
        add("index_target", version, position,
            "the index maps v" + std::to_string(version) + " to position " + std::to_string(position)
              + ", which holds " + std::string{e.stream_id} + " v" + std::to_string(e.version));
    }
    return {};
  }

  status end_group() {
    if (!in_group_)
      return {};
    // The stream's runs in the unmerged tail follow its stored runs.
    if (tail_ != tables_.tail.end() && tail_->first == group_) {
      for (const auto& run : tail_->second) {
        char value[layout::index_value_size];
        layout::encode_index_value(value, run.first_position, run.count);
        if (auto ok = check_entry(run.first_version, {value, sizeof(value)}, true); !ok)
          return ok;
      }
      ++tail_;
    }
    if (have_record_ && record_.head > prev_version_)
      add("stream_record", record_.head, 0,
          "the record keeps head v" + std::to_string(record_.head) + " but the index ends at v"
            + std::to_string(prev_version_));
    in_group_ = false;
    return {};
  }

  const raw_read_txn& t_;
  const journal_tables& tables_;
  verify_report& report_;
  raw_cursor records_;
  raw_cursor events_;
  uint64_t total_events_ = 0;
  MDB_val rk_{}, rv_{};
  int record_rc_ = MDB_NOTFOUND;
  // The stream being walked.
  std::string group_;
  bool in_group_ = false;
  bool have_record_ = false;
  stream_info record_;
  uint64_t entries_ = 0;
  stream_version prev_version_ = 0;
  global_position prev_position_ = 0;
  bool reported_deleted_ = false;
  std::map<std::string, std::vector<layout::index_run>>::const_iterator tail_ = tables_.tail.begin();
};

} // namespace

status check_streams(const raw_read_txn& t, const journal_tables& tables, verify_report& report) {
  return stream_walk{t, tables, report}.run();
}

} // namespace annal::cli
