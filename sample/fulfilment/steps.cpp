#include "steps.hpp"

#include <future>
#include <optional>
#include <vector>

#include "annal/log.hpp"
#include "annal/runtime.hpp"
#include "shop/domain/inventory.hpp"

namespace shop::detail {

namespace {

// Options of a command caused by the current event, with a deterministic id.
annal::command_options caused(const step_context& s, const std::string& what) {
  annal::command_options o;
  const auto& e = s.ctx.event();
  o.command_id = s.command_prefix + what;
  o.correlation_id = e.correlation_id.empty() ? std::string{e.stream_id}
                                              : std::string{e.correlation_id};
  o.causation_id = std::to_string(e.position);
  return o;
}

// Sends one inventory command per line at once (each sku is its own aggregate, so they
// run in parallel) and waits for all of them.
template <class MakeCommand>
std::vector<annal::command_result> for_each_line(step_context& s,
                                                 const std::vector<order_line>& lines,
                                                 const char* what, MakeCommand make) {
  std::vector<std::future<annal::command_result>> pending;
  pending.reserve(lines.size());
  for (const auto& l : lines)
    pending.push_back(s.ctx.rt().send<inventory>(l.sku, make(l), caused(s, std::string{what} + "/" + l.sku)));
  std::vector<annal::command_result> out;
  out.reserve(lines.size());
  for (auto& f : pending)
    out.push_back(f.get());
  return out;
}

// The current state of the order (the event's snapshot of it may be stale).
annal::result<order_state> current(step_context& s) {
  auto v = s.ctx.rt().load<order>(s.order_id);
  if (!v)
    return std::move(v).error();
  return std::move(v->state);
}

annal::status release_lines(step_context& s, const std::vector<order_line>& lines) {
  auto results = for_each_line(s, lines, "release", [&](const order_line&) {
    return inventory::command{release_stock{s.order_id}};
  });
  for (auto& r : results)
    if (!r && worth_retrying(r.error()))
      return std::move(r).error();
  return {};
}

} // namespace

bool worth_retrying(const annal::error& e) noexcept {
  using annal::errc;
  switch (e.code) {
    case errc::rejected:
    case errc::bad_request:
    case errc::not_found:
    case errc::already_exists:
    case errc::conflict:
    case errc::stream_deleted:
      return false;
    default:
      return true;
  }
}

annal::status on_order_placed(step_context& s) {
  auto o = current(s);
  if (!o)
    return std::move(o).error();
  // Handled before (a re-delivery after a restart), or cancelled before we got here: the
  // OrderCancelled step releases whatever is held.
  if (o->status != order_status::placed)
    return {};
  auto results = for_each_line(s, o->lines, "reserve", [&](const order_line& l) {
    return inventory::command{reserve_stock{s.order_id, l.quantity}};
  });
  std::optional<std::string> refusal;
  for (std::size_t i = 0; i < results.size(); ++i) {
    auto& r = results[i];
    if (r)
      continue;
    if (worth_retrying(r.error()))
      return std::move(r).error(); // handled again later with the same ids
    if (!refusal)
      refusal = "sku '" + o->lines[i].sku + "': " + r.error().message;
  }
  if (!refusal) {
    auto r = s.ctx.rt().send<order>(s.order_id, confirm_order{}, caused(s, "confirm")).get();
    if (r)
      return {};
    if (worth_retrying(r.error()))
      return std::move(r).error();
    // Cancelled while we reserved: give the stock back.
    return release_lines(s, o->lines);
  }
  // Reject and release at once: both are idempotent and independent of each other.
  auto rejected = s.ctx.rt().send<order>(s.order_id, reject_order{*refusal}, caused(s, "reject"));
  auto released = release_lines(s, o->lines);
  auto r = rejected.get();
  if (!released)
    return released;
  if (!r && worth_retrying(r.error()))
    return std::move(r).error();
  return {};
}

annal::status on_order_confirmed(step_context& s, annal::timestamp_ns confirmed_at,
                                 std::chrono::milliseconds timeout) {
  auto due = confirmed_at + std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
  return s.ctx.schedule<order>(payment_timer(s.order_id), due, s.order_id,
                               cancel_order{"payment timeout"});
}

annal::status on_order_paid(step_context& s) {
  s.ctx.cancel(payment_timer(s.order_id));
  return {};
}

annal::status on_order_shipped(step_context& s) {
  auto o = current(s);
  if (!o)
    return std::move(o).error();
  auto results = for_each_line(s, o->lines, "ship", [&](const order_line&) {
    return inventory::command{ship_stock{s.order_id}};
  });
  for (std::size_t i = 0; i < results.size(); ++i) {
    auto& r = results[i];
    if (r)
      continue;
    if (worth_retrying(r.error()))
      return std::move(r).error();
    annal::log(annal::log_level::warning, "fulfilment: shipping sku " + o->lines[i].sku
                                            + " of order " + s.order_id + " refused: "
                                            + r.error().message);
  }
  return {};
}

annal::status on_order_cancelled(step_context& s) {
  s.ctx.cancel(payment_timer(s.order_id));
  auto o = current(s);
  if (!o)
    return std::move(o).error();
  return release_lines(s, o->lines);
}

} // namespace shop::detail
