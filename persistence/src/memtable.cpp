#include "memtable.hpp"

#include <algorithm>

namespace annal::detail {

void memtable::copy(std::string_view stream_id, memtable_view& out) const {
  std::string key{stream_id};
  std::lock_guard<std::mutex> guard{mutex_};
  out.covered = covered_;
  out.indexed = indexed_;
  auto it = runs_.find(key);
  if (it == runs_.end())
    out.runs.clear();
  else
    out.runs = it->second;
}

void memtable::copy_ids(std::string_view prefix, std::vector<std::string>& ids,
                        memtable_view& marks) const {
  std::lock_guard<std::mutex> guard{mutex_};
  marks.covered = covered_;
  marks.indexed = indexed_;
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

std::vector<std::pair<std::string_view, index_run>> memtable::sorted() const {
  std::vector<std::pair<std::string_view, index_run>> out;
  out.reserve(run_count_);
  for (const auto& [id, v] : runs_)
    for (const auto& run : v)
      out.emplace_back(id, run);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second.first_version < b.second.first_version;
  });
  return out;
}

void memtable::drop_through(global_position indexed_through) {
  std::lock_guard<std::mutex> guard{mutex_};
  indexed_ = std::max(indexed_, indexed_through);
  for (auto it = runs_.begin(); it != runs_.end();) {
    auto& v = it->second;
    auto keep = std::find_if(v.begin(), v.end(), [&](const index_run& r) {
      return r.first_position > indexed_through;
    });
    run_count_ -= static_cast<std::size_t>(keep - v.begin());
    v.erase(v.begin(), keep);
    it = v.empty() ? runs_.erase(it) : std::next(it);
  }
  covered_ = std::max(covered_, indexed_through);
}

} // namespace annal::detail
