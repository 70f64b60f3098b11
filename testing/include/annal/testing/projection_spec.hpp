// Given/when/then for in-memory projections: events in, model out, with no runtime.
// The events go through the projection's real sink (memory_sink), as the runtime applies
// them; each check builds a fresh model.
//
//   auto spec = annal::testing::projection_spec<balances>{handlers}
//                 .given<account>("7", {opened{"ann"}, deposited{5}});
//   REQUIRE(spec.then([](const balances& b) { return b.at("7") == 5; }, "balance 5"));
//   REQUIRE(spec.then_model(expected));
//   REQUIRE(spec.replays_equal());
//
// Models are compared with operator== when the model has one, else by their cereal bytes.
#pragma once

#include <functional>
#include <mutex> // memory_projection.hpp uses std::unique_lock without including it
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "annal/memory_projection.hpp"
#include "annal/serialization.hpp"
#include "annal/testing/decider_spec.hpp"
#include "annal/testing/detail/compare.hpp"
#include "annal/testing/event_log.hpp"

namespace annal::testing {

/// A projection spec over a model type and its handler (a memory_handler<Model> or an
/// event_handlers<Model>). A value: given() returns a copy with the events added.
template <class Model>
class projection_spec {
public:
  explicit projection_spec(memory_handler<Model> handler, event_filter filter = {})
    : handler_(std::move(handler)), filter_(std::move(filter)) {}

  /// Adds events of instance `id` of A to the given log.
  template <class A>
  projection_spec given(const std::string& id, const std::vector<typename A::event>& events) const {
    auto copy = *this;
    copy.log_.template add<A>(id, events);
    return copy;
  }

  /// The events given so far.
  const event_log& log() const noexcept { return log_; }

  /// A fresh model with every given event applied (in one batch per `batch` events).
  /// Errors: the handler's, with the failing event's position in the message.
  result<Model> model(std::size_t batch = ~std::size_t{0}) const {
    memory_sink<Model> sink{handler_};
    global_position done = 0;
    while (done < log_.last_position()) {
      auto last = log_.last_position();
      auto through = last - done <= batch ? last : done + batch; // no overflow
      global_position failed_at = 0;
      auto ok = sink.apply(log_.views(done, through, &filter_), through, failed_at);
      if (!ok)
        return make_error(ok.error().code, "event at position " + std::to_string(failed_at)
                                             + ": " + ok.error().message);
      done = through;
    }
    return sink.read([](const Model& m) { return m; });
  }

  /// The model satisfies `check` (`what` names it in the failure message).
  spec_result then(const std::function<bool(const Model&)>& check, const std::string& what = "the check") const {
    auto m = model();
    if (!m)
      return spec_result::fail("applying the events failed: " + m.error().message);
    if (!check(*m))
      return spec_result::fail(what + " does not hold for the model " + detail::show(*m));
    return spec_result::pass();
  }

  /// The model equals `expected`.
  spec_result then_model(const Model& expected) const {
    auto m = model();
    if (!m)
      return spec_result::fail("applying the events failed: " + m.error().message);
    if (!detail::same_value(*m, expected))
      return spec_result::fail("model " + detail::show(*m) + ", expected " + detail::show(expected));
    return spec_result::pass();
  }

  /// Applying the event with the handler fails (e.g. a poison event).
  spec_result then_fails() const {
    auto m = model();
    return m ? spec_result::fail("the events applied without an error") : spec_result::pass();
  }

  /// Two fresh models built from the same events are equal, whether the events come in
  /// one batch or one at a time (no hidden state outside the model, no order dependence
  /// beyond the log's).
  spec_result replays_equal() const {
    auto a = model();
    auto b = model();
    auto c = model(1);
    if (!a || !b || !c)
      return spec_result::fail("applying the events failed");
    if (!detail::same_value(*a, *b))
      return spec_result::fail("a second replay gives " + detail::show(*b) + ", the first "
                               + detail::show(*a));
    if (!detail::same_value(*a, *c))
      return spec_result::fail("one event per batch gives " + detail::show(*c)
                               + ", one batch " + detail::show(*a));
    return spec_result::pass();
  }

private:
  memory_handler<Model> handler_;
  event_filter filter_;
  event_log log_;
};

} // namespace annal::testing
