// Registration of the fulfilment process manager(s) and the dispatch of order events to
// their steps.
#include "shop/fulfilment.hpp"

#include <cctype>

#include "annal/event_handlers.hpp"
#include "annal/log.hpp"
#include "annal/runtime.hpp"
#include "shop/domain/order.hpp"
#include "steps.hpp"

namespace shop {

namespace {

// FNV-1a: a hash that stays the same across builds and platforms, because partitions
// are persistent (a process manager's checkpoint covers only its own orders).
uint64_t stable_hash(std::string_view s) noexcept {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// "fulfilment-<digits>": a fulfilment manager of this or an earlier partition layout.
bool is_fulfilment_manager(std::string_view name) {
  constexpr std::string_view prefix = "fulfilment-";
  if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix)
    return false;
  for (auto c : name.substr(prefix.size()))
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return false;
  return true;
}

// The steps of one manager, by order event (order_rejected needs none: nothing was reserved).
annal::event_handlers<annal::process_context> order_steps(const annal::event_registry& reg,
                                                          const std::string& manager,
                                                          std::chrono::milliseconds timeout) {
  using annal::event_context;
  using annal::process_context;
  // The order, and the prefix of the ids of the commands this event causes: named by the
  // event's stream and version, which no other event anywhere shares. Not by its position:
  // positions are a node's own, so in a cluster two nodes' managers would send the same id
  // for different orders and an inventory would answer the second as a duplicate of the
  // first (a confirmed order without its reservation; tests/cluster/shop_fulfilment_test).
  auto step = [manager](const event_context& c) {
    return detail::step_context{std::string{c.aggregate_id}, manager + "/" + std::string{c.event.stream_id} + "@"
                                                               + std::to_string(c.event.version) + "/"};
  };
  return annal::event_handlers<process_context>{reg}
    .on<order_placed>([step](process_context& ctx, const event_context& c, const order_placed&) {
      return detail::on_order_placed(ctx, step(c));
    })
    .on<order_confirmed>([step, timeout](process_context& ctx, const event_context& c, const order_confirmed&) {
      return detail::on_order_confirmed(ctx, step(c), c.event.timestamp, timeout);
    })
    .on<order_paid>([step](process_context& ctx, const event_context& c, const order_paid&) {
      return detail::on_order_paid(ctx, step(c));
    })
    .on<order_shipped>([step](process_context& ctx, const event_context& c, const order_shipped&) {
      return detail::on_order_shipped(ctx, step(c));
    })
    .on<order_cancelled>([step](process_context& ctx, const event_context& c, const order_cancelled&) {
      return detail::on_order_cancelled(ctx, step(c));
    });
}

} // namespace

annal::status add_fulfilment(annal::runtime& rt, fulfilment_options options) {
  if (options.partitions == 0)
    return annal::make_error(annal::errc::bad_request, "fulfilment needs at least one partition");
  std::vector<std::string> names;
  for (unsigned k = 0; k < options.partitions; ++k)
    names.push_back("fulfilment-" + std::to_string(k));
  // A folder written with another partition count: the managers of this layout resume
  // from the lowest checkpoint of the old ones (their steps are idempotent, so handling
  // again what another partition had handled acts once).
  if (auto ok = annal::hand_over_checkpoints(rt.read_models(), is_fulfilment_manager, names); !ok)
    return ok;
  for (unsigned k = 0; k < options.partitions; ++k) {
    annal::process_manager pm;
    pm.options.name = names[k];
    pm.options.filter = annal::event_filter::categories({std::string{order::category}});
    // Keep retrying: an order must not be stuck because the disk was full for a while.
    pm.options.max_retries = 1000;
    pm.options.backoff = std::chrono::milliseconds(20);
    // A batch is also the unit of work redone after a crash: a few hundred events keep
    // enough orders in flight at once without redoing much.
    pm.options.chunk_events = 256;
    // Events of one order in order (the default: by stream), different orders at once.
    pm.max_concurrent_events = 256;
    auto steps = order_steps(rt.registry(), pm.options.name, options.payment_timeout);
    pm.handle = [steps, name = pm.options.name, k, n = options.partitions](
                  annal::process_context& ctx, const annal::event_view& e) -> annal::status {
      auto c = annal::event_context::of(e);
      if (n > 1 && stable_hash(c.aggregate_id) % n != k)
        return {};
      auto ok = steps(ctx, e);
      if (!ok) // the process manager retries the event (with backoff, or after a restart)
        annal::log(ok.error().code == annal::errc::unavailable ? annal::log_level::info
                                                               : annal::log_level::warning,
                   name + ": " + std::string{e.type} + " of order " + std::string{c.aggregate_id}
                     + " at " + std::to_string(e.position) + " failed, will retry: " + ok.error().to_string());
      return ok;
    };
    if (auto ok = rt.add_process_manager(std::move(pm)); !ok)
      return ok;
  }
  return {};
}

} // namespace shop
