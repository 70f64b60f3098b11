// Registration of the fulfilment process manager(s) and the dispatch of order events to
// their steps.
#include "shop/fulfilment.hpp"

#include <cctype>

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

struct dispatcher {
  annal::process_context& ctx;
  const detail::step_context& s;
  const annal::event_view& e;
  std::chrono::milliseconds timeout;

  annal::status operator()(const order_placed&) const { return detail::on_order_placed(ctx, s); }
  annal::status operator()(const order_confirmed&) const {
    return detail::on_order_confirmed(ctx, s, e.timestamp, timeout);
  }
  annal::status operator()(const order_rejected&) const { return {}; }
  annal::status operator()(const order_paid&) const { return detail::on_order_paid(ctx, s); }
  annal::status operator()(const order_shipped&) const { return detail::on_order_shipped(ctx, s); }
  annal::status operator()(const order_cancelled&) const { return detail::on_order_cancelled(ctx, s); }
};

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
    auto name = pm.options.name;
    auto n = options.partitions;
    auto timeout = options.payment_timeout;
    pm.handle = [&rt, name, k, n, timeout](annal::process_context& ctx,
                                           const annal::event_view& e) -> annal::status {
      auto stream = e.stream_id;
      auto order_id = std::string{stream.substr(order::category.size() + 1)};
      if (n > 1 && stable_hash(order_id) % n != k)
        return {};
      auto ev = annal::aggregate_traits<order>::decode(rt.registry(), e.type, e.schema_version,
                                                       e.payload, e.corrupt);
      if (!ev)
        return std::move(ev).error();
      detail::step_context s{order_id, name + "/" + std::to_string(e.position) + "/"};
      auto ok = std::visit(dispatcher{ctx, s, e, timeout}, *ev);
      if (!ok) // the process manager retries the event (with backoff, or after a restart)
        annal::log(ok.error().code == annal::errc::unavailable ? annal::log_level::info
                                                               : annal::log_level::warning,
                   name + ": " + std::string{e.type} + " of order " + order_id + " at "
                     + std::to_string(e.position) + " failed, will retry: " + ok.error().to_string());
      return ok;
    };
    if (auto ok = rt.add_process_manager(std::move(pm)); !ok)
      return ok;
  }
  return {};
}

} // namespace shop
