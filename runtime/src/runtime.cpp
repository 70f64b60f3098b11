#include "annal/runtime.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <mutex>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "annal/caf_error.hpp"
#include "annal/detail/atoms.hpp"
#include "annal/event_bus.hpp"
#include "annal/loader_pool.hpp"
#include "annal/log.hpp"

namespace annal {

namespace {

// CAF configuration that also exposes the runtime's settings as the "annal" option group.
struct annal_caf_config : caf::actor_system_config {
  std::string data_dir;
  std::string mode;
  std::size_t recovery_permits = 0;
  std::size_t max_batch_events = 0;
  std::size_t map_cap_mb = 0;
  std::size_t snapshots_to_keep = 0;

  explicit annal_caf_config(const runtime_config& cfg)
    : data_dir(cfg.data_dir.string()), mode(to_string(cfg.mode)),
      recovery_permits(cfg.recovery_permits), max_batch_events(cfg.writer.max_batch_events),
      map_cap_mb(cfg.max_map_size >> 20), snapshots_to_keep(cfg.snapshots_to_keep) {
    opt_group{custom_options_, "annal"}
      .add(data_dir, "data-dir", "folder of the journal and read-model stores")
      .add(mode, "durability", "durable (fsync per commit) or no_sync (explicit opt-in)")
      .add(recovery_permits, "recovery-permits", "rehydrations that may run at once")
      .add(max_batch_events, "max-batch-events", "events per group commit at most")
      .add(map_cap_mb, "map-cap-mb", "cap of each store's map in MiB (storage_full beyond)")
      .add(snapshots_to_keep, "snapshots-to-keep", "snapshots kept per stream");
    register_error_category(*this);
  }

  status apply_to(runtime_config& cfg) const {
    if (mode != "durable" && mode != "no_sync")
      return make_error(errc::bad_request, "annal.durability must be durable or no_sync, not '" + mode + "'");
    cfg.data_dir = data_dir;
    cfg.mode = mode == "durable" ? durability::durable : durability::no_sync;
    cfg.recovery_permits = std::max<std::size_t>(recovery_permits, 1);
    cfg.writer.max_batch_events = std::max<std::size_t>(max_batch_events, 1);
    cfg.max_map_size = map_cap_mb << 20;
    cfg.snapshots_to_keep = snapshots_to_keep;
    return {};
  }
};

store_options options_for(const runtime_config& cfg, const char* sub) {
  store_options o;
  o.dir = cfg.data_dir / sub;
  o.mode = cfg.mode;
  o.initial_map_size = std::min(cfg.initial_map_size, cfg.max_map_size);
  o.max_map_size = cfg.max_map_size;
  o.snapshots_to_keep = cfg.snapshots_to_keep;
  return o;
}

} // namespace

struct runtime::impl {
  runtime_config config;
  // Declared first: destroyed last (CAF keeps a reference to its config).
  std::unique_ptr<annal_caf_config> own_config;
  std::optional<caf::actor_system> own_system;
  caf::actor_system* sys = nullptr;
  std::unique_ptr<event_store> store;
  std::unique_ptr<read_model_store> read_models;
  event_registry registry;
  std::shared_ptr<journal_metrics> metrics = std::make_shared<journal_metrics>();
  std::unique_ptr<loader_pool> loader;
  caf::actor bus;
  caf::actor writer;
  std::unordered_map<std::type_index, caf::actor> routers;
  std::atomic<bool> accepting{false};
  std::atomic<bool> stopped{false};
  std::mutex stop_mutex;

  status open_stores() {
    auto s = event_store::open(options_for(config, "journal"));
    if (!s)
      return std::move(s).error();
    store = std::move(*s);
    auto rm = read_model_store::open(options_for(config, "read-models"));
    if (!rm)
      return std::move(rm).error();
    read_models = std::move(*rm);
    return {};
  }

  void spawn_services() {
    loader = std::make_unique<loader_pool>(*sys, config.recovery_permits);
    bus = spawn_event_bus(*sys);
    writer = spawn_journal_writer(*sys, *store, config.writer, bus, metrics);
  }

  // Waits for `a` to answer `msg...` with unit, up to `timeout`.
  template <class... Ts>
  status ask_unit(const caf::actor& a, std::chrono::seconds timeout, Ts... xs) {
    status out;
    caf::scoped_actor self{*sys};
    self->request(a, timeout, xs...).receive(
      [&]() {}, [&](caf::error& e) { out = from_caf_error(e); });
    return out;
  }

  // Stops `a` and waits until it is gone (the store must outlive the writer).
  void stop_and_wait(caf::actor& a) {
    if (!a)
      return;
    {
      caf::scoped_actor self{*sys};
      self->monitor(a);
      self->send_exit(a, caf::exit_reason::user_shutdown);
      self->receive([](const caf::down_msg&) {},
                    caf::after(std::chrono::seconds(30)) >> [] {
                      log(log_level::error, "an actor did not stop within 30 s");
                    });
    }
    a = nullptr;
  }
};

runtime::runtime(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

runtime::~runtime() {
  auto ok = stop();
  (void)ok;
}

result<std::unique_ptr<runtime>> runtime::open(runtime_config cfg) {
  auto p = std::make_unique<impl>();
  p->own_config = std::make_unique<annal_caf_config>(cfg);
  auto& caf_cfg = *p->own_config;
  caf_cfg.set("scheduler.max-threads", std::max(2u, std::thread::hardware_concurrency()));
  caf::error err;
  if (cfg.caf_config_file.empty()) {
    std::istringstream no_file;
    err = caf_cfg.parse(cfg.caf_args, no_file);
  } else {
    err = caf_cfg.parse(cfg.caf_args, cfg.caf_config_file.c_str());
  }
  if (err)
    return make_error(errc::bad_request, "CAF options: " + caf::actor_system_config::render(err));
  if (auto ok = caf_cfg.apply_to(cfg); !ok)
    return std::move(ok).error();
  p->config = std::move(cfg);
  if (auto ok = p->open_stores(); !ok)
    return std::move(ok).error();
  p->own_system.emplace(caf_cfg);
  p->sys = &*p->own_system;
  p->spawn_services();
  return std::unique_ptr<runtime>{new runtime(std::move(p))};
}

result<std::unique_ptr<runtime>> runtime::open(caf::actor_system& host, runtime_config cfg) {
  auto p = std::make_unique<impl>();
  p->config = std::move(cfg);
  p->sys = &host;
  if (auto ok = p->open_stores(); !ok)
    return std::move(ok).error();
  p->spawn_services();
  return std::unique_ptr<runtime>{new runtime(std::move(p))};
}

status runtime::start() {
  if (impl_->stopped)
    return make_error(errc::unavailable, "the runtime was stopped");
  impl_->accepting = true;
  return {};
}

bool runtime::running() const noexcept {
  return impl_->accepting.load(std::memory_order_acquire);
}

status runtime::stop() {
  std::lock_guard<std::mutex> guard{impl_->stop_mutex};
  auto& p = *impl_;
  if (p.stopped.exchange(true))
    return {};
  p.accepting = false;
  status out;
  // Instances finish their in-flight commands (replies wait for durability) and quit.
  for (auto& [type, router] : p.routers)
    if (auto ok = p.ask_unit(router, std::chrono::seconds(60), detail::drain_atom::value); !ok)
      out = ok;
  // Everything queued at the writer is committed (pending snapshots too).
  if (auto ok = p.ask_unit(p.writer, std::chrono::seconds(60), detail::sync_atom::value); !ok)
    out = ok;
  for (auto& [type, router] : p.routers)
    p.stop_and_wait(router);
  p.routers.clear();
  p.stop_and_wait(p.writer);
  p.stop_and_wait(p.bus);
  if (p.loader)
    p.loader->stop();
  if (p.own_system) {
    p.own_system.reset(); // waits for every actor of the system
  }
  if (auto ok = p.store->flush(); !ok)
    out = ok;
  return out;
}

detail::aggregate_context runtime::base_context() const {
  detail::aggregate_context ctx;
  ctx.store = impl_->store.get();
  ctx.registry = &impl_->registry;
  ctx.writer = impl_->writer;
  ctx.loader = impl_->loader.get();
  return ctx;
}

status runtime::add_router(std::type_index type, caf::actor router) {
  impl_->routers.emplace(type, std::move(router));
  return {};
}

result<caf::actor> runtime::router_of(std::type_index type) const {
  auto i = impl_->routers.find(type);
  if (i == impl_->routers.end())
    return make_error(errc::bad_request, "aggregate type not registered");
  return i->second;
}

caf::actor_system& runtime::system() noexcept {
  return *impl_->sys;
}

event_store& runtime::store() noexcept {
  return *impl_->store;
}

read_model_store& runtime::read_models() noexcept {
  return *impl_->read_models;
}

event_registry& runtime::registry() noexcept {
  return impl_->registry;
}

const journal_metrics& runtime::metrics() const noexcept {
  return *impl_->metrics;
}

const runtime_config& runtime::config() const noexcept {
  return impl_->config;
}

caf::actor runtime::event_bus() const {
  return impl_->bus;
}

} // namespace annal
