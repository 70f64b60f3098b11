#include "memtable.hpp"

#include <algorithm>
#include <cstring>

namespace annal::detail {

void memtable::copy(std::string_view stream_id, memtable_view& out,
                    std::optional<global_position> newest_before) const {
  std::string key{stream_id};
  std::lock_guard<std::mutex> guard{mutex_};
  out.covered = covered_;
  out.merged = merged_;
  out.runs.clear();
  auto it = runs_.find(key);
  if (it == runs_.end())
    return;
  if (!newest_before) {
    out.runs = it->second;
    return;
  }
  const auto& v = it->second;
  for (auto r = v.rbegin(); r != v.rend(); ++r)
    if (r->first_position <= *newest_before) {
      out.runs.push_back(*r);
      return;
    }
}

void memtable::copy_ids(std::string_view prefix, std::vector<std::string>& ids,
                        memtable_view& marks) const {
  std::lock_guard<std::mutex> guard{mutex_};
  marks.covered = covered_;
  marks.merged = merged_;
  for (const auto& [id, runs] : runs_)
    if (!runs.empty() && std::string_view{id}.substr(0, prefix.size()) == prefix)
      ids.push_back(id);
}

bool memtable::newest(std::string_view stream_id, index_run& out) const {
  auto it = runs_.find(std::string{stream_id});
  if (it == runs_.end() || it->second.empty())
    return false;
  out = it->second.back();
  return true;
}

void memtable::publish(const std::vector<std::pair<std::string, index_run>>& runs,
                       global_position through) {
  std::lock_guard<std::mutex> guard{mutex_};
  for (const auto& [id, run] : runs)
    runs_[id].push_back(run);
  run_count_ += runs.size();
  covered_ = std::max(covered_, through);
}

void memtable::add(std::string_view stream_id, const index_run& run, global_position through) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto& v = runs_[std::string{stream_id}];
  // A scan finds one event at a time: extend the stream's newest run when this continues it.
  if (!v.empty() && v.back().last_version() + 1 == run.first_version
      && v.back().first_position + v.back().count == run.first_position) {
    v.back().count += run.count;
  } else {
    v.push_back(run);
    ++run_count_;
  }
  covered_ = std::max(covered_, through);
}

void memtable::add_covered(global_position through) {
  std::lock_guard<std::mutex> guard{mutex_};
  covered_ = std::max(covered_, through);
}

namespace {

void set_head(merge_group& g) {
  unsigned char b[16] = {};
  std::memcpy(b, g.stream_id.data(), std::min<std::size_t>(16, g.stream_id.size()));
  for (int i = 0; i < 8; ++i) {
    g.head_hi = (g.head_hi << 8) | b[i];
    g.head_lo = (g.head_lo << 8) | b[8 + i];
  }
}

// Bytewise order of the ids (stream ids hold no NUL, so zero padding sorts first).
bool id_less(const merge_group& a, const merge_group& b) {
  if (a.head_hi != b.head_hi)
    return a.head_hi < b.head_hi;
  if (a.head_lo != b.head_lo)
    return a.head_lo < b.head_lo;
  return a.stream_id < b.stream_id;
}

} // namespace

std::vector<merge_group> memtable::groups_through(global_position through) const {
  std::vector<merge_group> out;
  out.reserve(runs_.size());
  bool all = through >= covered_; // every run: no need to look at them
  for (const auto& [id, v] : runs_) {
    auto n = all ? v.size()
                 : static_cast<std::size_t>(std::find_if(v.begin(), v.end(), [&](const index_run& r) {
                                              return r.first_position > through;
                                            }) - v.begin());
    if (n > 0) {
      out.push_back(merge_group{id, &v, n});
      set_head(out.back());
    }
  }
  // Sorting streams, not runs: a stream's runs are in version order already.
  std::sort(out.begin(), out.end(), id_less);
  return out;
}

memtable::run_map::iterator memtable::erase_through(run_map::iterator it, global_position through) {
  auto& v = it->second;
  auto keep = std::find_if(v.begin(), v.end(), [&](const index_run& r) { return r.first_position > through; });
  if (keep != v.begin()) {
    // A run extended past `through` after the merge read it (a scan continued it) keeps
    // its part after `through`: that part was not stored.
    auto& straddling = *(keep - 1);
    if (straddling.first_position + straddling.count - 1 > through) {
      auto stored = through - straddling.first_position + 1;
      straddling.first_version += stored;
      straddling.first_position += stored;
      straddling.count -= stored;
      --keep;
    }
  }
  run_count_ -= static_cast<std::size_t>(keep - v.begin());
  v.erase(v.begin(), keep);
  return v.empty() ? runs_.erase(it) : std::next(it);
}

void memtable::drop_through(global_position indexed_through) {
  std::lock_guard<std::mutex> guard{mutex_};
  merged_.indexed = std::max(merged_.indexed, indexed_through);
  merged_.partial_to = 0;
  merged_.partial_key.clear();
  for (auto it = runs_.begin(); it != runs_.end();)
    it = erase_through(it, indexed_through);
  covered_ = std::max(covered_, indexed_through);
}

void memtable::drop_slice(const merge_group* slice, std::size_t count, global_position through,
                          bool last) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (last) {
    merged_.indexed = std::max(merged_.indexed, through);
    merged_.partial_to = 0;
    merged_.partial_key.clear();
  } else if (count > 0) {
    merged_.partial_to = through;
    merged_.partial_key.assign(slice[count - 1].stream_id); // before the erase frees the key
  }
  for (std::size_t i = 0; i < count; ++i)
    if (auto it = runs_.find(std::string{slice[i].stream_id}); it != runs_.end())
      erase_through(it, through);
}

void memtable::catch_up(const merge_progress& p) {
  if (!p.ahead_of(merged_))
    return;
  if (p.indexed > merged_.indexed)
    drop_through(p.indexed);
  if (p.partial_to <= p.indexed)
    return;
  std::lock_guard<std::mutex> guard{mutex_};
  for (auto it = runs_.begin(); it != runs_.end();)
    it = it->first <= p.partial_key ? erase_through(it, p.partial_to) : std::next(it);
  merged_ = p;
}

} // namespace annal::detail
