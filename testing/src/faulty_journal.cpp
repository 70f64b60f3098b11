#include "annal/testing/faulty_journal.hpp"

#include <thread>

namespace annal::testing {

void journal_faults::fail_streams(std::vector<std::string> prefixes, errc code) {
  std::lock_guard<std::mutex> g{mx_};
  prefixes_ = std::move(prefixes);
  stream_code_ = code;
}

void journal_faults::fail_after(uint64_t n, errc code) {
  std::lock_guard<std::mutex> g{mx_};
  allowed_ = n;
  after_code_ = code;
}

void journal_faults::set_latency(std::chrono::milliseconds latency) {
  std::lock_guard<std::mutex> g{mx_};
  latency_ = latency;
}

void journal_faults::crash() {
  // A write already past before_write() still lands: as a crash just after it.
  std::lock_guard<std::mutex> g{mx_};
  crashed_ = true;
}

void journal_faults::clear() {
  std::lock_guard<std::mutex> g{mx_};
  prefixes_.clear();
  allowed_ = std::numeric_limits<uint64_t>::max();
  latency_ = std::chrono::milliseconds{0};
}

std::optional<errc> journal_faults::on_append(const std::string& stream, bool& batch_wide) {
  std::lock_guard<std::mutex> g{mx_};
  ++seen_;
  batch_wide = false;
  for (const auto& p : prefixes_)
    if (stream.compare(0, p.size(), p) == 0)
      return stream_code_;
  if (allowed_ == 0) {
    batch_wide = after_code_ == errc::io_error || after_code_ == errc::storage_full;
    return after_code_;
  }
  if (allowed_ != std::numeric_limits<uint64_t>::max())
    --allowed_;
  return std::nullopt;
}

bool journal_faults::before_write() {
  std::chrono::milliseconds pause;
  {
    std::lock_guard<std::mutex> g{mx_};
    pause = latency_;
  }
  if (pause.count() > 0)
    std::this_thread::sleep_for(pause); // the fault itself: a slow disk
  return !crashed_.load();
}

namespace {

error injected(errc code, const std::string& stream) {
  return make_error(code, "injected fault on " + stream + " (annal::testing::journal_faults)");
}

error crashed_error() {
  return make_error(errc::io_error, "the journal crashed (annal::testing::journal_faults::crash)");
}

class faulty_journal final : public event_store {
public:
  faulty_journal(std::unique_ptr<event_store> inner, std::shared_ptr<journal_faults> faults)
    : inner_(std::move(inner)), faults_(std::move(faults)) {}

  result<append_result> append(std::string_view stream_id, expected_version expected,
                               std::vector<new_event> events) override {
    if (!faults_->before_write())
      return crashed_error();
    bool wide = false;
    if (auto code = faults_->on_append(std::string{stream_id}, wide))
      return injected(*code, std::string{stream_id});
    auto r = inner_->append(stream_id, expected, std::move(events));
    if (r)
      faults_->count_written(1);
    return r;
  }

  result<std::vector<append_result>> append(std::vector<stream_append> appends) override {
    if (!faults_->before_write())
      return crashed_error();
    for (const auto& a : appends) {
      bool wide = false;
      if (auto code = faults_->on_append(a.stream_id, wide))
        return injected(*code, a.stream_id); // all or nothing, as the store's contract says
    }
    auto n = appends.size();
    auto r = inner_->append(std::move(appends));
    if (r)
      faults_->count_written(n);
    return r;
  }

  result<batch_outcome> commit(write_batch& batch, bool collect) override {
    if (!faults_->before_write())
      return crashed_error();
    std::vector<std::optional<error>> verdicts;
    bool any = false;
    for (const auto& a : batch.appends) {
      bool wide = false;
      auto code = faults_->on_append(a.stream_id, wide);
      if (code && wide)
        return injected(*code, a.stream_id); // batch-wide: nothing written, batch untouched
      any = any || code.has_value();
      verdicts.emplace_back(code ? std::optional<error>{injected(*code, a.stream_id)} : std::nullopt);
    }
    if (!any) {
      auto n = batch.appends.size();
      auto out = inner_->commit(batch, collect);
      if (out)
        for (std::size_t i = 0; i < n; ++i)
          if (out->appends[i])
            faults_->count_written(1);
      return out;
    }
    // Appends with an injected error leave the batch; the rest commits as usual, and the
    // outcomes are merged back in the batch's order.
    write_batch passed;
    passed.snapshots = std::move(batch.snapshots);
    std::vector<stream_append> held;
    for (std::size_t i = 0; i < batch.appends.size(); ++i)
      (verdicts[i] ? held : passed.appends).push_back(std::move(batch.appends[i]));
    auto out = inner_->commit(passed, collect);
    // Give the batch back in its order (as far as the store left it).
    batch.snapshots = std::move(passed.snapshots);
    std::size_t next_passed = 0;
    std::size_t next_held = 0;
    for (std::size_t i = 0; i < batch.appends.size(); ++i)
      batch.appends[i] = verdicts[i] ? std::move(held[next_held++]) : std::move(passed.appends[next_passed++]);
    if (!out)
      return out;
    batch_outcome merged;
    merged.committed = std::move(out->committed);
    std::size_t next = 0;
    for (auto& v : verdicts) {
      if (v) {
        merged.appends.emplace_back(std::move(*v));
        continue;
      }
      if (out->appends[next])
        faults_->count_written(1);
      merged.appends.push_back(std::move(out->appends[next++]));
    }
    return merged;
  }

  result<std::vector<recorded_event>> read_stream(std::string_view s, stream_range r) override {
    return inner_->read_stream(s, r);
  }
  result<std::vector<recorded_event>> read_stream_backward(std::string_view s, stream_version from,
                                                           uint64_t n) override {
    return inner_->read_stream_backward(s, from, n);
  }
  result<std::vector<recorded_event>> read_all(global_position after, uint64_t n) override {
    return inner_->read_all(after, n);
  }
  result<uint64_t> read_all(global_position after, uint64_t n, const event_visitor& v) override {
    return inner_->read_all(after, n, v);
  }
  result<uint64_t> read_all_batch(global_position after, uint64_t n,
                                  const event_batch_visitor& v) override {
    return inner_->read_all_batch(after, n, v);
  }
  result<event_chunk> read_chunk(global_position after, uint64_t n,
                                 const std::function<bool(const event_view&)>& keep) override {
    return inner_->read_chunk(after, n, keep);
  }
  result<shard_chunk> read_shard(const shard_range& r) override { return inner_->read_shard(r); }
  result<uint64_t> read_stream(std::string_view s, stream_range r, const event_visitor& v) override {
    return inner_->read_stream(s, r, v);
  }
  result<stream_info> stream_head(std::string_view s) override { return inner_->stream_head(s); }
  result<std::vector<stream_info>> list_streams(std::string_view prefix, std::string_view after,
                                                uint64_t limit) override {
    return inner_->list_streams(prefix, after, limit);
  }
  result<std::vector<stream_info>> list_trimmed_streams(uint16_t shard_count, uint16_t shard,
                                                        std::string_view after, uint64_t limit) override {
    return inner_->list_trimmed_streams(shard_count, shard, after, limit);
  }
  result<global_position> last_position() override { return inner_->last_position(); }

  status truncate_stream(std::string_view s, stream_version through) override {
    if (!faults_->before_write())
      return crashed_error();
    return inner_->truncate_stream(s, through);
  }
  status delete_stream(std::string_view s) override {
    if (!faults_->before_write())
      return crashed_error();
    return inner_->delete_stream(s);
  }
  status save_snapshot(snapshot_record snapshot) override {
    if (!faults_->before_write())
      return crashed_error();
    return inner_->save_snapshot(std::move(snapshot));
  }
  result<std::optional<snapshot_record>> load_snapshot(std::string_view s, snapshot_bounds b) override {
    return inner_->load_snapshot(s, b);
  }
  status delete_snapshot(std::string_view s, stream_version v) override {
    if (!faults_->before_write())
      return crashed_error();
    return inner_->delete_snapshot(s, v);
  }
  result<uint64_t> delete_snapshots(std::string_view s, snapshot_bounds b) override {
    if (!faults_->before_write())
      return crashed_error();
    return inner_->delete_snapshots(s, b);
  }
  status flush() override {
    if (!faults_->before_write())
      return crashed_error();
    return inner_->flush();
  }
  status merge_index() override { return inner_->merge_index(); }
  result<store_stats> stats() override { return inner_->stats(); }
  const store_options& options() const noexcept override { return inner_->options(); }
  status backup(const std::filesystem::path& dest) override { return inner_->backup(dest); }
  void* native_handle() noexcept override { return inner_->native_handle(); }

private:
  std::unique_ptr<event_store> inner_;
  std::shared_ptr<journal_faults> faults_;
};

} // namespace

std::unique_ptr<event_store> make_faulty_journal(std::unique_ptr<event_store> inner,
                                                 std::shared_ptr<journal_faults> faults) {
  return std::make_unique<faulty_journal>(std::move(inner), std::move(faults));
}

std::function<std::unique_ptr<event_store>(std::unique_ptr<event_store>)>
wrap_with(std::shared_ptr<journal_faults> faults) {
  return [faults](std::unique_ptr<event_store> inner) {
    return make_faulty_journal(std::move(inner), faults);
  };
}

} // namespace annal::testing
