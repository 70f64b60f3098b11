#include "steps.hpp"

#include <optional>
#include <vector>

#include "annal/log.hpp"
#include "annal/runtime.hpp"
#include "shop/domain/inventory.hpp"

namespace shop::detail {

namespace {

using annal::command_result;
using annal::process_context;
using annal::reply_ref;

// Options of a command caused by the current event, with a deterministic id (the
// correlation and causation ids are the process manager's defaults).
annal::command_options caused(const step_context& s, const std::string& what) {
  annal::command_options o;
  o.command_id = s.command_prefix + what;
  return o;
}

// Sends one inventory command per line at once (each sku is its own aggregate, so they
// run in parallel).
template <class MakeCommand>
std::vector<reply_ref> for_each_line(process_context& ctx, const step_context& s,
                                     const std::vector<order_line>& lines, const char* what,
                                     MakeCommand make) {
  std::vector<reply_ref> refs;
  refs.reserve(lines.size());
  for (const auto& l : lines)
    refs.push_back(ctx.send<inventory>(l.sku, make(l), caused(s, std::string{what} + "/" + l.sku)));
  return refs;
}

// The current state of the order (the event's snapshot of it may be stale).
annal::result<order_state> current(process_context& ctx, const step_context& s) {
  auto v = ctx.rt().load<order>(s.order_id);
  if (!v)
    return std::move(v).error();
  return std::move(v->state);
}

// Gives back every line's stock. No continuation: a transient failure of a release fails
// the event (it is handled again), a release that finds nothing held is answered as done.
void release_lines(process_context& ctx, const step_context& s, const std::vector<order_line>& lines) {
  for_each_line(ctx, s, lines, "release", [&](const order_line&) {
    return inventory::command{release_stock{s.order_id}};
  });
}

annal::status transient_or_ok(const command_result& r) {
  if (!r && annal::is_transient(r.error().code))
    return r.error();
  return {};
}

// All lines reserved: confirm. Refused (the customer cancelled meanwhile, which is
// recorded): give the stock back; the cancellation's own step releases too (idempotent).
annal::status confirm(process_context& ctx, const step_context& s, std::vector<order_line> lines) {
  auto sent = ctx.send<order>(s.order_id, confirm_order{}, caused(s, "confirm"));
  ctx.then(sent, [s, lines = std::move(lines)](process_context& next, const command_result& r) {
    if (r || annal::is_transient(r.error().code))
      return transient_or_ok(r);
    release_lines(next, s, lines);
    return annal::status{};
  });
  return {};
}

// A line was refused: reject the order first, and release only once the rejection is
// recorded. Released first, a crash before the rejection would leave a placed order whose
// re-run step gets its reserves answered as replayed successes for stock given back since.
annal::status reject(process_context& ctx, const step_context& s, std::vector<order_line> lines,
                     std::string reason) {
  auto sent = ctx.send<order>(s.order_id, reject_order{std::move(reason)}, caused(s, "reject"));
  ctx.then(sent, [s, lines = std::move(lines)](process_context& next, const command_result& r) {
    if (!r && annal::is_transient(r.error().code))
      return annal::status{r.error()};
    // Rejected now or before, or cancelled meanwhile: the order holds nothing any more.
    release_lines(next, s, lines);
    return annal::status{};
  });
  return {};
}

} // namespace

annal::status on_order_placed(process_context& ctx, const step_context& s) {
  auto o = current(ctx, s);
  if (!o)
    return std::move(o).error();
  // Rejected by an earlier run that did not finish: finish its release.
  if (o->status == order_status::rejected) {
    release_lines(ctx, s, o->lines);
    return {};
  }
  // Handled before (a re-delivery after a restart), or cancelled before we got here: the
  // OrderCancelled step releases whatever is held.
  if (o->status != order_status::placed)
    return {};
  auto refs = for_each_line(ctx, s, o->lines, "reserve", [&](const order_line& l) {
    return inventory::command{reserve_stock{s.order_id, l.quantity}};
  });
  // While the order is placed nothing releases its stock (releases follow a recorded
  // rejection or cancellation), so a replayed reserve success is still true here.
  ctx.then(refs, [s, lines = o->lines](process_context& next, std::vector<command_result> rs) {
    std::optional<std::string> refusal;
    for (std::size_t i = 0; i < rs.size(); ++i) {
      if (rs[i])
        continue;
      if (annal::is_transient(rs[i].error().code))
        return annal::status{rs[i].error()}; // handled again later with the same ids
      if (!refusal)
        refusal = "sku '" + lines[i].sku + "': " + rs[i].error().message;
    }
    if (!refusal)
      return confirm(next, s, lines);
    return reject(next, s, lines, std::move(*refusal));
  });
  return {};
}

annal::status on_order_confirmed(process_context& ctx, const step_context& s,
                                 annal::timestamp_ns confirmed_at, std::chrono::milliseconds timeout) {
  auto due = confirmed_at + std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
  return ctx.schedule<order>(payment_timer(s.order_id), due, s.order_id,
                             cancel_order{"payment timeout"});
}

annal::status on_order_paid(process_context& ctx, const step_context& s) {
  ctx.cancel(payment_timer(s.order_id));
  return {};
}

annal::status on_order_shipped(process_context& ctx, const step_context& s) {
  auto o = current(ctx, s);
  if (!o)
    return std::move(o).error();
  auto refs = for_each_line(ctx, s, o->lines, "ship", [&](const order_line&) {
    return inventory::command{ship_stock{s.order_id}};
  });
  ctx.then(refs, [s, lines = o->lines](process_context&, std::vector<command_result> rs) {
    for (std::size_t i = 0; i < rs.size(); ++i) {
      if (rs[i])
        continue;
      if (annal::is_transient(rs[i].error().code))
        return annal::status{rs[i].error()};
      annal::log(annal::log_level::warning, "fulfilment: shipping sku " + lines[i].sku + " of order "
                                              + s.order_id + " refused: " + rs[i].error().message);
    }
    return annal::status{};
  });
  return {};
}

annal::status on_order_cancelled(process_context& ctx, const step_context& s) {
  ctx.cancel(payment_timer(s.order_id));
  auto o = current(ctx, s);
  if (!o)
    return std::move(o).error();
  release_lines(ctx, s, o->lines);
  return {};
}

} // namespace shop::detail
