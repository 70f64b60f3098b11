// Internal: the LMDB implementation of the event_store contract (event_store::open makes
// one). Its state lives in lmdb_event_store::impl (event_store_impl.hpp); the source files
// event_store*.cpp define its functions by concern.
#pragma once

#include <memory>

#include "annal/event_store.hpp"

namespace annal {

class lmdb_event_store final : public event_store {
public:
  struct impl;
  explicit lmdb_event_store(std::unique_ptr<impl> p);
  ~lmdb_event_store() override;

  result<append_result> append(std::string_view stream_id, expected_version expected,
                               std::vector<new_event> events) override;
  result<std::vector<append_result>> append(std::vector<stream_append> appends) override;
  result<batch_outcome> commit(write_batch& batch, bool collect) override;

  status fence_shard(uint16_t shard, bool fenced) override;
  bool shard_fenced(uint16_t shard) const override;
  result<import_outcome> import_shard(const shard_import& chunk) override;
  status import_stream_record(const stream_info& source) override;
  status hand_over_shard(uint16_t shard, std::string_view to, uint64_t epoch) override;
  status take_over_shard(uint16_t shard, uint64_t epoch) override;
  result<std::vector<shard_owner_record>> shard_owners() override;

  result<std::vector<recorded_event>> read_stream(std::string_view stream_id,
                                                  stream_range range) override;
  result<std::vector<recorded_event>> read_stream_backward(std::string_view stream_id,
                                                           stream_version from,
                                                           uint64_t max_count) override;
  result<std::vector<recorded_event>> read_all(global_position after, uint64_t max_count) override;
  result<uint64_t> read_all(global_position after, uint64_t max_count,
                            const event_visitor& visit) override;
  result<uint64_t> read_all_batch(global_position after, uint64_t max_count,
                                  const event_batch_visitor& visit) override;
  result<event_chunk> read_chunk(global_position after, uint64_t max_count,
                                 const std::function<bool(const event_view&)>& keep) override;
  result<shard_chunk> read_shard(const shard_range& range) override;
  result<uint64_t> read_stream(std::string_view stream_id, stream_range range,
                               const event_visitor& visit) override;
  result<uint64_t> read_stream_and_head(std::string_view stream_id, stream_range range,
                                        stream_info& head, const event_visitor& visit) override;
  result<stream_info> stream_head(std::string_view stream_id) override;
  result<std::vector<stream_info>> list_streams(std::string_view prefix, std::string_view after,
                                                uint64_t limit) override;
  result<std::vector<stream_info>> list_trimmed_streams(uint16_t shard_count, uint16_t shard,
                                                        std::string_view after, uint64_t limit) override;
  result<global_position> last_position() override;

  status truncate_stream(std::string_view stream_id, stream_version through) override;
  status delete_stream(std::string_view stream_id) override;

  status save_snapshot(snapshot_record snapshot) override;
  result<std::optional<snapshot_record>> load_snapshot(std::string_view stream_id,
                                                       snapshot_bounds bounds) override;
  status delete_snapshot(std::string_view stream_id, stream_version version) override;
  result<uint64_t> delete_snapshots(std::string_view stream_id, snapshot_bounds bounds) override;

  status flush() override;
  status merge_index() override;
  result<store_stats> stats() override;
  const store_options& options() const noexcept override;
  status backup(const std::filesystem::path& dest) override;
  void* native_handle() noexcept override;

  /// The state (for the LMDB store's own source files).
  impl& state() noexcept { return *impl_; }

private:
  std::unique_ptr<impl> impl_;
};

} // namespace annal
