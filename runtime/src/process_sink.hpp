// Internal: the projection sink of a process manager.
#pragma once

#include "annal/process_manager.hpp"
#include "timer_service.hpp"

namespace annal::detail {

/// Handles the events of a batch concurrently (in order per instance), waits once for all
/// of them, and commits the staged state, timers and checkpoint of the handled prefix in
/// one read-model transaction. Called from the manager's actor only.
class process_sink final : public projection_sink {
public:
  process_sink(runtime& rt, process_manager spec, table_id state_table, timer_tables timers,
               std::function<void()> wake);

  result<std::optional<global_position>> stored_position() override;
  status store_position(global_position position) override;
  status apply(const std::vector<event_view>& events, global_position through,
               global_position& failed_at) override;
  status reset() override;
  status park(global_position position, const error& why) override;
  result<std::vector<global_position>> parked_positions() override;

private:
  std::string checkpoint_name() const { return checkpoint_prefix + name_; }
  status commit(const process_context::staged& s, global_position through);

  runtime& rt_;
  std::string name_;
  process_handler handler_;
  instance_key_fn key_;
  std::size_t max_concurrent_;
  table_id state_table_;
  timer_tables timers_;
  std::function<void()> wake_;

public:
  /// Process managers' checkpoints are named "pm/<name>".
  static constexpr const char* checkpoint_prefix = "pm/";
};

/// Name of the read-model table holding the state of every process manager (keys are
/// prefixed with the manager's name and '/').
inline constexpr const char* process_state_table_name = "annal.process_state";

} // namespace annal::detail
