// Given/when/then for durable projections (read_model_txn handlers, LMDB tables): events
// in, tables out, on a read-model store in a temporary folder. Checks replay equality and
// exactly-once application across a simulated crash (checkpoint, then resume).
//
//   annal::testing::durable_projection_spec spec{[&](annal::read_model_store& s) {
//     return make_balances_projection(registry, s);   // opens its tables in `s`
//   }};
//   spec = spec.given<account>("7", {opened{"ann"}, deposited{5}});
//   REQUIRE(spec.then([&](annal::read_model_store& s) -> annal::status { ... }));
//   REQUIRE(spec.replays_equal());
//   REQUIRE(spec.exactly_once_across_crash());
#pragma once

#include <functional>
#include <map>
#include <string>

#include "annal/durable_projection.hpp"
#include "annal/read_model_store.hpp"
#include "annal/testing/decider_spec.hpp"
#include "annal/testing/event_log.hpp"

namespace annal::testing {

/// Contents of a projection's tables: table name -> key -> value.
using table_dump = std::map<std::string, std::map<std::string, std::string>>;

/// Makes the projection over a read-model store (opening its tables there): the spec
/// calls it for every store it builds, as the runtime's setup would for its own.
using projection_factory = std::function<result<durable_projection>(read_model_store&)>;

class durable_projection_spec {
public:
  explicit durable_projection_spec(projection_factory make);

  /// Adds events of instance `id` of A to the given log.
  template <class A>
  durable_projection_spec given(const std::string& id,
                                const std::vector<typename A::event>& events) const {
    auto copy = *this;
    copy.log_.template add<A>(id, events);
    return copy;
  }

  const event_log& log() const noexcept { return log_; }

  /// Builds the read model from every given event in a fresh store and runs `check` on
  /// that store (open the tables, read; return an error to fail, its message says why).
  spec_result then(const std::function<status(read_model_store&)>& check) const;

  /// The projection's tables hold exactly `expected`.
  spec_result then_tables(const table_dump& expected) const;

  /// Two fresh stores built from the same events hold equal tables, whether the events
  /// come in one batch or one per transaction.
  spec_result replays_equal() const;

  /// For every cut of the log: apply the events up to the cut, drop the sink and close
  /// the store (a crash after that commit), reopen, resume from the stored checkpoint and
  /// apply the rest; the tables must equal those of one uninterrupted run and the
  /// checkpoint must be the last position (every event applied exactly once).
  spec_result exactly_once_across_crash() const;

  /// Builds the model (in batches of `batch` events) in a fresh store in `dir` and dumps
  /// the tables. Errors: those of the store and the handler.
  result<table_dump> build(std::size_t batch = ~std::size_t{0}) const;

private:
  projection_factory make_;
  event_log log_;
};

} // namespace annal::testing
