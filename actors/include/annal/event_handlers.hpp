// Typed event handlers for projections and process managers: register one function per
// event type and get back the untyped handler the projection takes. The payload is
// decoded (and upcast) through the registry; the handler also sees the event's context
// (its aggregate's category and id, its position and metadata).
//
//   auto h = annal::event_handlers<annal::read_model_txn>{registry}
//              .on<order_placed>([&](read_model_txn& t, const event_context& c,
//                                    const order_placed& e) -> status { ... })
//              .on<order_paid>(...);
//   projection.apply = h;                    // durable: status(read_model_txn&, const event_view&)
//   projection.options.filter = h.filter();  // only the types handled
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "annal/event_filter.hpp"
#include "annal/event_registry.hpp"
#include "annal/recorded_event.hpp"
#include "annal/result.hpp"

namespace annal {

/// What a typed handler knows of the event besides its decoded payload. Valid only during
/// the call (it views the event).
struct event_context {
  /// The event as stored (stream, version, position, timestamp, metadata).
  const event_view& event;
  /// The aggregate category and id of the event's stream: "order" and "42" of "order-42"
  /// (the part before the first '-', and the rest; no '-': category only).
  std::string_view category;
  std::string_view aggregate_id;

  /// Splits `e`'s stream id into category and aggregate id.
  static event_context of(const event_view& e) noexcept {
    auto dash = e.stream_id.find('-');
    if (dash == std::string_view::npos)
      return event_context{e, e.stream_id, {}};
    return event_context{e, e.stream_id.substr(0, dash), e.stream_id.substr(dash + 1)};
  }
};

/// One handler per event type, over a target: read_model_txn (durable projections), the
/// model (memory projections) or process_context (process managers). Events of types it
/// has no handler for are passed over. A value: copy it into the projection (the registry
/// must outlive every copy). Thread safety: const calls from any thread.
template <class Target>
class event_handlers {
public:
  explicit event_handlers(const event_registry& registry) : registry_(&registry) {}

  /// Handles events of type E with `fn(Target&, const event_context&, const E&)`, which
  /// returns status (or void: success). A second handler for E replaces the first.
  template <class E, class F>
  event_handlers& on(F fn) & {
    auto name = registry_->template name_of<E>();
    static_assert(std::is_invocable_v<F&, Target&, const event_context&, const E&>,
                  "a handler for E takes (Target&, const annal::event_context&, const E&)");
    std::string key{name ? *name : std::string_view{}};
    handlers_[key] = [reg = registry_, fn = std::move(fn)](Target& target, const event_view& e) -> status {
      auto ev = reg->template decode<E>(e);
      if (!ev)
        return make_error(ev.error().code, std::string{e.stream_id} + " v" + std::to_string(e.version)
                                             + ": " + ev.error().message);
      auto ctx = event_context::of(e);
      if constexpr (std::is_void_v<std::invoke_result_t<F&, Target&, const event_context&, const E&>>) {
        fn(target, ctx, *ev);
        return {};
      } else {
        return fn(target, ctx, *ev);
      }
    };
    return *this;
  }

  template <class E, class F>
  event_handlers&& on(F fn) && {
    on<E>(std::move(fn));
    return std::move(*this);
  }

  /// Handles every alternative of the std::variant V (an aggregate's `event`) with one
  /// generic `fn(Target&, const event_context&, const auto&)`.
  template <class V, class F>
  event_handlers& on_each(F fn) & {
    on_each_alternative<V>(fn, std::make_index_sequence<std::variant_size_v<V>>{});
    return *this;
  }

  template <class V, class F>
  event_handlers&& on_each(F fn) && {
    on_each<V>(std::move(fn));
    return std::move(*this);
  }

  /// Runs the handler of `e`'s type (decoding first), or nothing when there is none.
  /// Errors: the handler's, or those of decoding (corrupt, unknown_event_type).
  status operator()(Target& target, const event_view& e) const {
    auto h = handlers_.find(e.type);
    if (h == handlers_.end())
      return {};
    return h->second(target, e);
  }

  /// The stored names of the handled types (for event_filter::types).
  std::vector<std::string> types() const {
    std::vector<std::string> out;
    for (const auto& [name, fn] : handlers_)
      out.push_back(name);
    return out;
  }

  /// A filter that passes exactly the handled types.
  event_filter filter() const { return event_filter::types(types()); }

private:
  template <class V, class F, std::size_t... Is>
  void on_each_alternative(const F& fn, std::index_sequence<Is...>) {
    (on<std::variant_alternative_t<Is, V>>(fn), ...);
  }

  const event_registry* registry_;
  std::map<std::string, std::function<status(Target&, const event_view&)>, std::less<>> handlers_;
};

} // namespace annal
