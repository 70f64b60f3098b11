#include "write_group.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace annal::detail {

namespace {

// Runs one request in a nested transaction of `parent`; its writes are merged into the
// parent on success and discarded on failure. Sets `map_full` when the map ran out.
status run_nested(MDB_txn* parent, const write_group::request_fn& fn, bool& map_full) {
  MDB_txn* nested = nullptr;
  if (int rc = mdb_txn_begin(mdb_txn_env(parent), parent, 0, &nested); rc != 0)
    return lmdb_error(rc, "begin nested write transaction");
  status s;
  try {
    s = fn(nested, map_full);
  } catch (const std::exception& e) {
    s = make_error(errc::io_error, std::string{"exception inside a transaction: "} + e.what());
  } catch (...) {
    s = make_error(errc::io_error, "unknown exception inside a transaction");
  }
  if (!s || map_full) {
    mdb_txn_abort(nested);
    return s;
  }
  if (int rc = mdb_txn_commit(nested); rc != 0) {
    map_full = map_full || rc == MDB_MAP_FULL;
    return lmdb_error(rc, "commit nested write transaction");
  }
  return s;
}

} // namespace

status write_group::run(const request_fn& fn) {
  request self{&fn, {}};
  std::unique_lock<std::mutex> lock{mutex_};
  queue_.push_back(&self);
  wake_.wait(lock, [&] { return self.done || queue_.front() == &self; });
  if (self.done)
    return std::move(self.result);
  // Leader: take what is queued now; later arrivals form the next batch.
  std::vector<request*> batch(queue_.begin(),
                              queue_.begin() + static_cast<std::ptrdiff_t>(std::min(queue_.size(), max_batch_)));
  lock.unlock();
  auto began = std::chrono::steady_clock::now();
  commit(batch);
  commit_durations_.record(std::chrono::steady_clock::now() - began);
  lock.lock();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    queue_.front()->done = true;
    queue_.pop_front();
  }
  wake_.notify_all();
  return std::move(self.result);
}

void write_group::commit(const std::vector<request*>& batch) {
  if (batch.size() == 1) { // alone: no nested transaction needed
    auto& r = *batch.front();
    r.result = env_.write([&](txn& t) -> status {
      bool map_full = false;
      auto s = (*r.fn)(t.get(), map_full);
      if (map_full)
        t.note(MDB_MAP_FULL);
      return s;
    });
    return;
  }
  // own[i]: request i failed by itself (its nested writes were discarded, the rest commit).
  std::vector<bool> own(batch.size(), false);
  auto committed = env_.write([&](txn& t) -> status {
    std::fill(own.begin(), own.end(), false); // a map growth runs the whole batch again
    for (std::size_t i = 0; i < batch.size(); ++i) {
      bool map_full = false;
      batch[i]->result = run_nested(t.get(), *batch[i]->fn, map_full);
      if (map_full) {
        t.note(MDB_MAP_FULL);
        return batch[i]->result;
      }
      own[i] = !batch[i]->result;
    }
    return {};
  });
  if (!committed) // nothing was written: every request not failed by itself shares the error
    for (std::size_t i = 0; i < batch.size(); ++i)
      if (!own[i])
        batch[i]->result = committed;
}

} // namespace annal::detail
