#include "shop/node/shop_service.hpp"

#include <nlohmann/json.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <future>
#include <mutex>
#include <random>
#include <thread>

#include "shop/stable_hash.hpp"

namespace shop::node {

using namespace shop::http;

// A pool for the blocking handle(): each request runs on a strand of it.
struct shop_service::sync_runner {
  boost::asio::thread_pool pool{std::max(2u, std::thread::hardware_concurrency())};
  ~sync_runner() { pool.join(); }
};

shop_service::shop_service(annal::runtime& rt, read_model_tables tables, node_metrics& metrics,
                           const annal::cluster::cluster_node* cluster,
                           const annal::cluster::cluster_projection* cluster_reads)
  : rt_(rt), tables_(tables), metrics_(metrics), cluster_reads_(cluster_reads), prices_(rt, cluster) {}

shop_service::~shop_service() = default;

void shop_service::handle(const api_request& request, const executor& ex, responder done) {
  std::visit(
    [&](const auto& r) {
      using T = std::decay_t<decltype(r)>;
      if constexpr (std::is_same_v<T, create_product_request>) create_product(r, ex, std::move(done));
      else if constexpr (std::is_same_v<T, change_price_request>) change_price(r, ex, std::move(done));
      else if constexpr (std::is_same_v<T, restock_request>) restock(r, ex, std::move(done));
      else if constexpr (std::is_same_v<T, place_order_request>) place_order(r, ex, std::move(done));
      else if constexpr (std::is_same_v<T, pay_order_request>) pay_order(r, ex, std::move(done));
      else if constexpr (std::is_same_v<T, ship_order_request>) ship_order(r, ex, std::move(done));
      else if constexpr (std::is_same_v<T, cancel_order_request>) cancel_order(r, ex, std::move(done));
      else if constexpr (std::is_same_v<T, get_product_request>) get_product(r, ex, std::move(done));
      else if constexpr (std::is_same_v<T, get_inventory_request>) get_inventory(r, ex, std::move(done));
      else if constexpr (std::is_same_v<T, get_order_request>) get_order(r, ex, std::move(done));
      else if constexpr (std::is_same_v<T, get_customer_orders_request>) get_customer_orders(r, ex, std::move(done));
      else if constexpr (std::is_same_v<T, get_sales_request>) get_sales(r, ex, std::move(done));
      else if constexpr (std::is_same_v<T, get_stream_events_request>) done(get_stream_events(r));
      else if constexpr (std::is_same_v<T, get_events_request>) done(get_events(r));
      else if constexpr (std::is_same_v<T, get_projections_request>) done(get_projections());
      else if constexpr (std::is_same_v<T, get_health_request>) done(get_health());
      else done(get_metrics());
    },
    request);
}

http_response shop_service::handle(const api_request& request) {
  std::call_once(sync_once_, [this] { sync_ = std::make_unique<sync_runner>(); });
  // The answer may come from another thread after the task ended (a command's reply):
  // shared. The task may go on after answering inline (an order refused at its first
  // line still walks its lines): `request` lives until the task is done, not just answered.
  auto answer = std::make_shared<std::promise<http_response>>();
  auto future = answer->get_future();
  std::promise<void> task_done;
  auto left = task_done.get_future();
  executor strand = boost::asio::make_strand(sync_->pool);
  boost::asio::post(strand, [this, &request, &task_done, answer, strand] {
    try {
      handle(request, strand, [answer](http_response r) { answer->set_value(std::move(r)); });
    } catch (const std::exception& e) {
      try {
        answer->set_value(error_response({500, "internal", std::string{"unexpected exception: "} + e.what()}));
      } catch (const std::future_error&) {
        // answered before it threw: that answer stands
      }
    }
    task_done.set_value();
  });
  auto out = future.get();
  left.wait();
  return out;
}

http_response shop_service::error_response(const api_error& e) {
  return http_response{e.status, error_body(e), "application/json", false};
}

void shop_service::await_projections(std::vector<std::string> names, const query_meta& q,
                                     std::chrono::milliseconds timeout, const executor& ex,
                                     wait_done then) {
  if (cluster_reads_ != nullptr)
    return await_read_token(q, timeout, ex, std::move(then));
  if (q.token)
    return then(bad_request("read_token is a cluster's: this node runs alone, use min_position"));
  auto min_position = q.min_position;
  std::vector<std::shared_ptr<annal::projection_monitor>> monitors;
  bool reached = true;
  for (const auto& name : names) {
    auto monitor = rt_.projection_monitor_of(name);
    if (!monitor)
      return then(to_api_error(monitor.error()));
    reached = reached && (*monitor)->position() >= min_position;
    monitors.push_back(std::move(*monitor));
  }
  if (min_position == 0 || reached)
    return then(std::nullopt);
  // Decided once: by the monitors (all reached, one faulted or stopped) or by the timer.
  struct wait_state {
    explicit wait_state(const executor& ex) : timer(ex) {}
    std::atomic<bool> decided{false};
    boost::asio::steady_timer timer;
    std::function<bool()> cancel;
    std::mutex mx; // guards cancel (set after the wait may already have been decided)
  };
  auto st = std::make_shared<wait_state>(ex);
  // The first model not at min_position yet: the one a timeout names.
  auto lagging = [monitors, names, min_position] {
    for (std::size_t i = 0; i < monitors.size(); ++i)
      if (monitors[i]->position() < min_position)
        return names[i];
    return names.front();
  };
  st->timer.expires_after(timeout);
  st->timer.async_wait([this, st, lagging, min_position, then](const boost::system::error_code& ec) {
    if (ec || st->decided.exchange(true))
      return;
    {
      std::lock_guard<std::mutex> guard{st->mx};
      if (st->cancel)
        st->cancel();
    }
    then(wait_error(lagging(), min_position, true));
  });
  // Runs on a projection's actor (or here): it only hands the outcome to `ex`.
  auto cancel = annal::notify_when_all(
    monitors, min_position, [this, st, ex, names, min_position, then](std::optional<std::size_t> failed) {
      if (st->decided.exchange(true))
        return;
      boost::asio::post(ex, [this, st, names, min_position, then, failed] {
        st->timer.cancel();
        if (!failed)
          then(std::nullopt);
        else
          then(wait_error(names[*failed], min_position, false));
      });
    });
  std::lock_guard<std::mutex> guard{st->mx};
  st->cancel = std::move(cancel);
}

api_error shop_service::wait_error(const std::string& name, annal::global_position min_position,
                                   bool timed_out) {
  auto info = rt_.projection(name);
  if (!info)
    return to_api_error(info.error());
  // A model that cannot store is not merely late: say why (it resumes once space returns).
  auto full = std::string{annal::to_string(annal::errc::storage_full)};
  if (info->error.compare(0, full.size(), full) == 0)
    return {507, "storage_full", "projection '" + name + "' cannot store: " + info->error};
  if (timed_out)
    return {504, "projection_lagging", "projection '" + name + "' is at position "
                                         + std::to_string(info->position) + ", not yet at "
                                         + std::to_string(min_position)};
  return unavailable("projection '" + name + "' is " + annal::to_string(info->state));
}

void shop_service::after(const std::string& name, const query_meta& q, const executor& ex,
                         responder done, std::function<http_response()> answer) {
  await_projections({name}, q, query_timeout, ex,
                   [done = std::move(done), answer = std::move(answer)](std::optional<api_error> e) {
                     done(e ? error_response(*e) : answer());
                   });
}

api_error to_api_error(const annal::error& e) {
  using annal::errc;
  switch (e.code) {
    case errc::rejected: return conflict("rejected", e.message);
    case errc::conflict: return conflict("version_conflict", e.message);
    case errc::already_exists: return conflict("already_exists", e.message);
    case errc::not_found:
    case errc::stream_deleted: return not_found(e.message);
    case errc::bad_request: return bad_request(e.message);
    case errc::storage_full: return {507, "storage_full", e.message};
    case errc::timeout: return {504, "timeout", e.message};
    case errc::unavailable: return unavailable(e.message);
    case errc::overloaded: return unavailable("overloaded, retry later: " + e.message);
    case errc::io_error:
    case errc::corrupt:
    case errc::unknown_event_type: return {500, "internal", e.to_string()};
    case errc::handler_fault: return {500, "handler_fault", "a bug in the shop's code: " + e.message};
  }
  return {500, "internal", e.to_string()};
}

api_error to_command_error(const annal::error& e, const std::string& entity, bool creates,
                           bool must_exist) {
  if (e.conflict && creates && e.conflict->actual > 0)
    return conflict("already_exists", entity + " exists already");
  if (e.conflict && must_exist && e.conflict->actual == 0)
    return not_found("no " + entity);
  return to_api_error(e);
}

namespace {

std::string hex64(uint64_t x) {
  static const char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, x >>= 4)
    out[static_cast<std::size_t>(i)] = digits[x & 0xf];
  return out;
}

} // namespace

std::string new_order_id(const std::string& idempotency_key) {
  if (!idempotency_key.empty())
    return "o-" + hex64(fnv1a(idempotency_key))
           + hex64(fnv1a(idempotency_key, 0x9e3779b97f4a7c15ull));
  thread_local std::mt19937_64 rng{std::random_device{}() ^ (uint64_t{std::random_device{}()} << 32)};
  return "o-" + hex64(rng()) + hex64(rng());
}

} // namespace shop::node
