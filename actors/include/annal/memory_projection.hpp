// A projection whose read model is a plain C++ object in memory, rebuilt from the journal
// on every start. Queries read it under a shared lock from any thread; the projection's
// actor applies batches under the exclusive lock.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "annal/call_user_code.hpp"
#include "annal/projection.hpp"

namespace annal {

/// Applies one event to the model. Return an error (or throw) to fail: the events of the
/// batch before it stay applied, so a handler must not half-change the model.
template <class Model>
using memory_handler = std::function<status(Model&, const event_view&)>;

/// What a user registers for an in-memory projection.
template <class Model>
struct memory_projection {
  projection_options options;
  memory_handler<Model> apply;
};

/// The sink of an in-memory projection. Thread safety: read() from any thread.
template <class Model>
class memory_sink final : public projection_sink {
public:
  explicit memory_sink(memory_handler<Model> handler) : handler_(std::move(handler)) {}

  /// Runs `fn(const Model&)` under the shared lock and returns its result.
  template <class F>
  auto read(F&& fn) const {
    std::shared_lock<std::shared_mutex> lock{mx_};
    return fn(static_cast<const Model&>(model_));
  }

  // Kept for the life of the process (a restarted process rebuilds from its start).
  result<std::optional<global_position>> stored_position() override {
    std::shared_lock<std::shared_mutex> lock{mx_};
    return position_;
  }

  status store_position(global_position position) override {
    std::unique_lock<std::shared_mutex> lock{mx_};
    position_ = position;
    return {};
  }

  status apply(const std::vector<event_view>& events, global_position through,
               global_position& failed_at) override {
    std::unique_lock<std::shared_mutex> lock{mx_};
    for (const auto& e : events) {
      auto ok = call_user_code("handler", [&] { return handler_(model_, e); });
      if (!ok) {
        failed_at = e.position;
        position_ = e.position - 1; // everything before the failing event is applied
        return ok;
      }
    }
    position_ = through;
    return {};
  }

  status reset() override {
    std::unique_lock<std::shared_mutex> lock{mx_};
    model_ = Model{};
    position_ = 0; // a rebuild replays from 0
    return {};
  }

  status park(global_position position, const error& why) override {
    std::unique_lock<std::shared_mutex> lock{mx_};
    parked_.emplace_back(position, why);
    return {};
  }

  /// Events skipped so far, with the error that made them skipped.
  std::vector<std::pair<global_position, error>> parked() const {
    std::shared_lock<std::shared_mutex> lock{mx_};
    return parked_;
  }

private:
  mutable std::shared_mutex mx_;
  Model model_{};
  std::optional<global_position> position_; // none until the first apply or store
  memory_handler<Model> handler_;
  std::vector<std::pair<global_position, error>> parked_;
};

/// A typed handle on a registered in-memory projection (what runtime::add_projection
/// returns): queries reach its model without a name lookup or a run-time type check.
/// A value; valid while the runtime that made it lives. Thread safety: any thread.
template <class Model>
class memory_view {
public:
  /// Waits until the projection reached a position (runtime::await_projection).
  using awaiter = std::function<status(global_position, std::chrono::milliseconds)>;

  memory_view(std::shared_ptr<memory_sink<Model>> sink, awaiter await)
    : sink_(std::move(sink)), await_(std::move(await)) {}

  /// Runs `fn(const Model&)` once the model reflects `min_position` (0: at once), waiting
  /// at most `timeout`; returns fn's result. Errors: those of runtime::await_projection
  /// (timeout, unavailable when the projection is faulted or stopped).
  template <class F>
  auto query(F&& fn, global_position min_position = 0,
             std::chrono::milliseconds timeout = std::chrono::seconds(5)) const
    -> result<decltype(fn(std::declval<const Model&>()))> {
    if (min_position > 0)
      if (auto ok = await_(min_position, timeout); !ok)
        return std::move(ok).error();
    return sink_->read(std::forward<F>(fn));
  }

  /// The sink itself (its position and parked events; read() without waiting).
  const std::shared_ptr<memory_sink<Model>>& sink() const noexcept { return sink_; }
  memory_sink<Model>* operator->() const noexcept { return sink_.get(); }

private:
  std::shared_ptr<memory_sink<Model>> sink_;
  awaiter await_;
};

} // namespace annal
