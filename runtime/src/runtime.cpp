#include "annal/runtime.hpp"

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <map>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "annal/caf_error.hpp"
#include "annal/detail/aggregate_context.hpp"
#include "annal/detail/atoms.hpp"
#include "annal/detail/instance_directory.hpp"
#include "annal/detail/messages.hpp"
#include "annal/detail/once_callback.hpp"
#include "annal/detail/service_spawn.hpp"
#include "annal/event_bus.hpp"
#include "annal/journal_writer.hpp"
#include "annal/loader_pool.hpp"
#include "annal/log.hpp"
#include "annal/projection_actor.hpp"
#include "folder_lock.hpp"
#include "monitor_wait.hpp"
#include "process_shard.hpp"
#include "process_sink.hpp"
#include "timer_service.hpp"

namespace annal {

namespace {

// CAF configuration that also exposes the runtime's settings as the "annal" option group.
struct annal_caf_config : caf::actor_system_config {
  std::string data_dir;
  std::string mode;
  std::size_t recovery_permits = 0;
  std::size_t max_batch_events = 0;
  std::size_t max_batch_bytes = 0;
  std::size_t bus_max_buffered = 0;
  std::size_t bus_max_unacked = 0;
  std::size_t map_cap_mb = 0;
  std::size_t map_initial_mb = 0;
  std::size_t snapshots_to_keep = 0;
  std::size_t process_state_wait_ms = 0;
  std::size_t writer_idle_spin_us = 0;

  explicit annal_caf_config(const runtime_config& cfg)
    : data_dir(cfg.data_dir.string()), mode(to_string(cfg.mode)),
      recovery_permits(cfg.recovery_permits), max_batch_events(cfg.writer.max_batch_events),
      max_batch_bytes(cfg.writer.max_batch_bytes), bus_max_buffered(cfg.bus.max_buffered_events),
      bus_max_unacked(cfg.bus.max_unacked_events), map_cap_mb(cfg.max_map_size >> 20),
      map_initial_mb(cfg.initial_map_size >> 20), snapshots_to_keep(cfg.snapshots_to_keep),
      process_state_wait_ms(static_cast<std::size_t>(cfg.process_state_wait.count())),
      writer_idle_spin_us(static_cast<std::size_t>(cfg.writer.idle_spin.count())) {
    opt_group{custom_options_, "annal"}
      .add(data_dir, "data-dir", "folder of the journal and read-model stores")
      .add(mode, "durability", "durable (fsync per commit) or no_sync (explicit opt-in)")
      .add(recovery_permits, "recovery-permits", "rehydrations that may run at once")
      .add(max_batch_events, "max-batch-events", "events per group commit at most")
      .add(max_batch_bytes, "max-batch-bytes", "bytes per group commit at most")
      .add(writer_idle_spin_us, "writer-idle-spin-us",
           "how long the journal writer watches for the next append after an idle commit (0: sleeps at once)")
      .add(bus_max_buffered, "bus-max-buffered-events",
           "events buffered for a subscriber still catching up (beyond: it reads further)")
      .add(bus_max_unacked, "bus-max-unacked-events",
           "events a live subscriber may leave unacknowledged (beyond: back to catch-up)")
      .add(map_cap_mb, "map-cap-mb", "cap of each store's map in MiB (storage_full beyond)")
      .add(map_initial_mb, "map-initial-mb", "initial map of a new store in MiB (it doubles as it fills)")
      .add(snapshots_to_keep, "snapshots-to-keep", "snapshots kept per stream")
      .add(process_state_wait_ms, "process-state-wait-ms",
           "how long process managers hold back a taken-over shard's events for its old owner's state");
    register_error_category(*this);
  }

  status apply_to(runtime_config& cfg) const {
    if (mode != "durable" && mode != "no_sync")
      return make_error(errc::bad_request, "annal.durability must be durable or no_sync, not '" + mode + "'");
    cfg.data_dir = data_dir;
    cfg.mode = mode == "durable" ? durability::durable : durability::no_sync;
    cfg.recovery_permits = std::max<std::size_t>(recovery_permits, 1);
    cfg.writer.max_batch_events = std::max<std::size_t>(max_batch_events, 1);
    cfg.writer.max_batch_bytes = std::max<std::size_t>(max_batch_bytes, 1);
    cfg.writer.idle_spin = std::chrono::microseconds(writer_idle_spin_us);
    cfg.bus.max_buffered_events = std::max<std::size_t>(bus_max_buffered, 1);
    cfg.bus.max_unacked_events = std::max<std::size_t>(bus_max_unacked, 1);
    cfg.max_map_size = map_cap_mb << 20;
    cfg.initial_map_size = std::max<std::size_t>(map_initial_mb, 1) << 20;
    cfg.snapshots_to_keep = snapshots_to_keep;
    cfg.process_state_wait = std::chrono::milliseconds(process_state_wait_ms);
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

// A hosted aggregate type: its router and the typed path into it.
struct hosted_aggregate {
  caf::actor router;
  detail::local_sender send;
  std::shared_ptr<detail::instance_directory> directory;
};

struct registered_projection {
  projection_options options;
  std::shared_ptr<projection_sink> sink;
  std::shared_ptr<projection_monitor> monitor;
  caf::actor actor;
};

struct runtime::impl {
  runtime_config config;
  // Held for the runtime's lifetime; released last.
  std::optional<detail::folder_lock> lock;
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
  std::unordered_map<std::type_index, hosted_aggregate> aggregates;
  std::map<std::string, detail::command_dispatcher> dispatchers;
  // Set before start(), read without a lock after it.
  std::shared_ptr<command_forwarder> forwarder;
  category_tags tags;
  std::map<std::string, registered_projection> projections;
  caf::actor timers;
  // Opened by the first process manager registered.
  std::optional<detail::process_tables> process_tables;
  // The waits of export_process_shard that may still run (stop() ends them: they read
  // the read models).
  std::mutex waits_mx;
  std::vector<caf::actor_addr> waits;
  std::atomic<bool> accepting{false};
  std::atomic<bool> stopped{false};
  std::mutex stop_mutex;

  status open_stores() {
    auto l = detail::folder_lock::acquire(config.data_dir);
    if (!l)
      return std::move(l).error();
    lock.emplace(std::move(*l));
    auto s = event_store::open(options_for(config, "journal"));
    if (!s)
      return std::move(s).error();
    store = std::move(*s);
    auto rm_options = options_for(config, "read-models");
    // Derived data: a commit lost to a crash of the machine is replayed from the journal
    // (checkpoints commit with the rows), so one sync per commit is enough.
    rm_options.sync_meta = false;
    auto rm = read_model_store::open(rm_options);
    if (!rm)
      return std::move(rm).error();
    read_models = std::move(*rm);
    // Read models of another journal, or ahead of this one, are refused (rebuild them).
    if (auto ok = read_models->bind_journal(*store); !ok)
      return ok;
    // Wrapped after binding: the binding reads the LMDB journal's identity itself.
    if (config.wrap_journal) {
      store = config.wrap_journal(std::move(store));
      if (!store)
        return make_error(errc::bad_request, "runtime_config::wrap_journal returned no store");
    }
    return {};
  }

  void spawn_services() {
    loader = std::make_unique<loader_pool>(*sys, config.recovery_permits);
    bus = spawn_event_bus(*sys, config.bus);
    writer = spawn_journal_writer(*sys, *store, config.writer, bus, metrics);
  }

  // The timers of `shard` fire here: it is not fenced and (in a cluster) this node owns it.
  bool owns_shard(uint16_t shard) const {
    return !store->shard_fenced(shard) && (!forwarder || forwarder->owns_shard(shard));
  }

  void wake_timers() {
    if (timers)
      caf::anon_send(timers, detail::timer_atom::value);
  }

  // The monitors of the process managers.
  std::vector<detail::named_monitor> process_monitors() const {
    std::vector<detail::named_monitor> out;
    for (const auto& [name, reg] : projections)
      if (dynamic_cast<const detail::process_sink*>(reg.sink.get()) != nullptr)
        out.emplace_back(name, reg.monitor);
    return out;
  }

  // Waits for `a` to answer `msg...` with unit, up to `timeout`.
  template <class... Ts>
  status ask_unit(const caf::actor& a, std::chrono::seconds timeout, Ts... xs) {
    status out;
    caf::scoped_actor self{*sys};
    auto answer = self->request(a, timeout, xs...);
    run_until_answered(self);
    std::move(answer).receive(
      [&]() {}, [&](caf::error& e) { out = from_caf_error(e); });
    return out;
  }

  // On CAF's test coordinator nothing runs while this thread waits for `self`'s answer:
  // runs the actors' messages here, and when none is left the next delayed one (the
  // runtime is stopping: its ticks and deadlines may fire), until the answer came (bounded).
  void run_until_answered(caf::scoped_actor& self) {
    auto* sched = detail::test_coordinator_of(*sys);
    if (sched == nullptr)
      return;
    for (int i = 0; i < 1000000 && self->mailbox().empty(); ++i)
      if (!sched->try_run_once() && !sched->trigger_timeout())
        return;
  }

  // On CAF's test coordinator: runs what is queued (the loaders' exits), since the actor
  // system's destructor waits for every actor to be gone and nothing else would run them.
  void run_exits() {
    if (auto* sched = detail::test_coordinator_of(*sys))
      sched->run();
  }

  // Stops `a` and waits until it is gone (the store must outlive the writer).
  void stop_and_wait(caf::actor& a) {
    if (!a)
      return;
    {
      caf::scoped_actor self{*sys};
      self->monitor(a);
      self->send_exit(a, caf::exit_reason::user_shutdown);
      run_until_answered(self);
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
  // One shared job queue whose idle workers sleep on a condition variable. CAF's default
  // (work stealing) polls: idle workers sleep 50 us at a time between attempts, which adds
  // that much to a hop that wakes them, and a steal walks the victim's whole queue (its
  // take_tail), a seventh of the write path's CPU with hundreds of aggregates ready at once.
  caf_cfg.set("scheduler.policy", caf::atom("sharing"));
  if (cfg.caf_setup)
    cfg.caf_setup(caf_cfg);
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
  auto& p = *impl_;
  if (p.stopped)
    return make_error(errc::unavailable, "the runtime was stopped");
  if (p.accepting)
    return {};
  // "The end" of a start_position::end projection is now, before any command can commit;
  // a failure here surfaces again (as the projection's fault) when its actor resumes.
  for (auto& [name, reg] : p.projections)
    (void)fix_start_position(*p.store, *reg.sink, reg.options);
  p.accepting = true;
  for (auto& [name, reg] : p.projections) {
    reg.options.filter.bind_tags(p.tags);
    reg.actor = spawn_projection(*p.sys, *p.store, p.bus, reg.sink, reg.options, reg.monitor);
  }
  if (p.process_tables)
    p.timers = detail::spawn_timer_service(*p.sys, *this, p.process_tables->timers,
                                           [&p](uint16_t shard) { return p.owns_shard(shard); });
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
  for (auto& [type, agg] : p.aggregates)
    if (auto ok = p.ask_unit(agg.router, std::chrono::seconds(60), detail::drain_atom::value); !ok)
      out = ok;
  // Everything queued at the writer is committed (pending snapshots too).
  if (auto ok = p.ask_unit(p.writer, std::chrono::seconds(60), detail::sync_atom::value); !ok)
    out = ok;
  // The map stays as it is: send() may still read it on other threads (a command that
  // reaches a stopped router is dropped and its caller told `unavailable`).
  for (auto& [type, agg] : p.aggregates) {
    auto handle = agg.router;
    p.stop_and_wait(handle);
  }
  p.stop_and_wait(p.timers);
  std::vector<caf::actor_addr> waits;
  {
    std::lock_guard<std::mutex> waits_guard{p.waits_mx};
    waits.swap(p.waits);
  }
  for (const auto& w : waits)
    if (auto a = caf::actor_cast<caf::actor>(w))
      p.stop_and_wait(a);
  for (auto& [name, reg] : p.projections) {
    auto handle = reg.actor;
    p.stop_and_wait(handle);
  }
  p.stop_and_wait(p.writer);
  p.stop_and_wait(p.bus);
  if (p.loader)
    p.loader->stop();
  p.run_exits();
  // An actor system of our own is destroyed with the runtime (after every handle of ours
  // is gone), not here: other threads may still hold the routers' handles.
  if (auto ok = p.store->flush(); !ok)
    out = ok;
  // Nothing of this runtime writes any more: another one may take the folder.
  p.lock.reset();
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

void runtime::add_dispatcher(std::string category, detail::command_dispatcher fn,
                             std::vector<std::string> tags) {
  if (fn)
    impl_->dispatchers[category] = std::move(fn);
  if (!tags.empty())
    impl_->tags[category] = std::move(tags);
}

void runtime::dispatch(const stored_command& cmd, std::function<void(command_result)> done) {
  auto i = impl_->dispatchers.find(cmd.category);
  if (i == impl_->dispatchers.end())
    return done(make_error(errc::bad_request, "no serializable commands registered for '"
                                                + cmd.category + "'"));
  command_options o;
  o.command_id = cmd.command_id;
  o.correlation_id = cmd.correlation_id;
  o.causation_id = cmd.causation_id;
  i->second(cmd.aggregate_id, cmd.command_bytes, std::move(o), false, std::move(done));
}

status runtime::set_forwarder(std::shared_ptr<command_forwarder> forwarder) {
  if (running() || impl_->stopped)
    return make_error(errc::bad_request, "install the forwarder before start()");
  impl_->forwarder = std::move(forwarder);
  return {};
}

void runtime::run_forwarded(const forwarded_command& cmd, std::function<void(command_result)> done) {
  auto i = impl_->dispatchers.find(cmd.category);
  if (i == impl_->dispatchers.end())
    return done(make_error(errc::bad_request, "no serializable commands registered for '"
                                                + cmd.category + "'"));
  i->second(cmd.aggregate_id, cmd.command_bytes, cmd.options, true, std::move(done));
}

status runtime::add_sink(projection_options options, std::shared_ptr<projection_sink> sink) {
  auto& p = *impl_;
  if (running() || p.stopped)
    return make_error(errc::bad_request, "register projections before start()");
  if (options.name.empty() || p.projections.count(options.name) > 0)
    return make_error(errc::bad_request, "projection name '" + options.name + "' is empty or taken");
  auto monitor = std::make_shared<projection_monitor>(options.name);
  auto name = options.name;
  p.projections.emplace(name, registered_projection{std::move(options), std::move(sink), std::move(monitor), {}});
  return {};
}

result<std::shared_ptr<projection_sink>> runtime::sink_of(const std::string& name) const {
  auto i = impl_->projections.find(name);
  if (i == impl_->projections.end())
    return make_error(errc::not_found, "no projection '" + name + "'");
  return i->second.sink;
}

status runtime::add_projection(durable_projection spec) {
  auto sink = make_durable_sink(*impl_->read_models, spec);
  if (!sink)
    return std::move(sink).error();
  return add_sink(std::move(spec.options), std::move(*sink));
}

status runtime::add_process_manager(process_manager spec) {
  auto& p = *impl_;
  if (!p.process_tables) {
    auto t = detail::open_process_tables(*p.read_models, p.config.process_state_wait);
    if (!t)
      return std::move(t).error();
    p.process_tables = *t;
  }
  auto options = spec.options;
  auto sink = std::make_shared<detail::process_sink>(*this, std::move(spec), *p.process_tables,
                                                     [&p] { p.wake_timers(); });
  // Before start: the shards whose events it holds back count as held from the outset.
  if (auto ok = sink->load_deferred(); !ok)
    return ok;
  return add_sink(std::move(options), std::move(sink));
}

void runtime::export_process_shard(uint16_t shard, global_position through, std::chrono::milliseconds timeout,
                                   std::function<void(result<process_shard_state>)> done) {
  auto& p = *impl_;
  if (!running())
    return done(make_error(errc::unavailable, "the runtime is not running"));
  if (!p.process_tables)
    return done(process_shard_state{});
  auto collect = [&p, shard, done](status reached) {
    if (!reached)
      return done(std::move(reached).error());
    result<process_shard_state> rows = process_shard_state{};
    auto ok = p.read_models->read([&](const read_model_txn& t) -> status {
      rows = detail::collect_process_shard(t, *p.process_tables, shard);
      return rows ? status{} : rows.error();
    });
    done(ok ? std::move(rows) : result<process_shard_state>{std::move(ok).error()});
  };
  auto wait = detail::await_monitors(*p.sys, p.process_monitors(), through, timeout, std::move(collect));
  if (!wait)
    return;
  std::lock_guard<std::mutex> guard{p.waits_mx};
  p.waits.erase(std::remove_if(p.waits.begin(), p.waits.end(),
                               [](const caf::actor_addr& a) { return !caf::actor_cast<caf::actor>(a); }),
                p.waits.end());
  p.waits.push_back(wait.address());
}

status runtime::expect_process_shard(uint16_t shard, uint64_t epoch) {
  auto& p = *impl_;
  if (!p.process_tables)
    return {};
  return p.read_models->write([&](read_model_txn& t) {
    return detail::expect_process_shard(t, *p.process_tables, shard, epoch);
  });
}

bool runtime::expects_process_shard(uint16_t shard) const {
  const auto& p = *impl_;
  return p.process_tables
         && (p.process_tables->expected->contains(shard) || p.process_tables->expected->held(shard));
}

result<uint64_t> runtime::import_process_shard(uint16_t shard, uint64_t epoch, const process_shard_state& rows) {
  auto& p = *impl_;
  if (!p.process_tables)
    return rows.state.empty() && rows.timers.empty()
             ? result<uint64_t>{uint64_t{0}}
             : make_error(errc::conflict, "this node runs no process managers to take their state");
  uint64_t taken = 0;
  bool was_expected = p.process_tables->expected->contains(shard);
  auto ok = p.read_models->write([&](read_model_txn& t) -> status {
    auto n = detail::merge_process_shard(t, *p.process_tables, shard, epoch, rows);
    if (!n)
      return std::move(n).error();
    taken = *n;
    return {};
  });
  if (!ok) {
    // Nothing committed: the shard expects the rows as before.
    p.process_tables->expected->set(shard, was_expected);
    return std::move(ok).error();
  }
  p.process_tables->expected->arrived(shard); // committed: the events held back may run
  p.wake_timers();
  return taken;
}

result<bool> runtime::holds_process_shard(uint16_t shard) {
  auto& p = *impl_;
  if (!p.process_tables)
    return false;
  result<bool> held = false;
  auto ok = p.read_models->read([&](const read_model_txn& t) -> status {
    held = detail::holds_process_shard(t, *p.process_tables, shard);
    return held ? status{} : held.error();
  });
  if (!ok)
    return std::move(ok).error();
  return held;
}

result<std::vector<uint16_t>> runtime::process_shards_held(uint16_t shard_count) {
  auto& p = *impl_;
  if (!p.process_tables)
    return std::vector<uint16_t>{};
  result<std::vector<uint16_t>> held = std::vector<uint16_t>{};
  auto ok = p.read_models->read([&](const read_model_txn& t) -> status {
    held = detail::held_process_shards(t, *p.process_tables, shard_count);
    return held ? status{} : held.error();
  });
  if (!ok)
    return std::move(ok).error();
  return held;
}

uint64_t runtime::process_shard_takes(uint16_t shard) const {
  const auto& p = *impl_;
  return p.process_tables ? p.process_tables->expected->takes(shard) : 0;
}

result<bool> runtime::drop_process_shard(uint16_t shard, uint64_t takes, uint64_t epoch) {
  auto& p = *impl_;
  if (!p.process_tables)
    return true;
  bool dropped = false;
  auto ok = p.read_models->write([&](read_model_txn& t) -> status {
    // Inside the transaction: a take-over marks the shard in one, and writers take turns.
    if (p.process_tables->expected->takes(shard) != takes)
      return {};
    dropped = true;
    if (auto r = detail::drop_process_shard(t, *p.process_tables, shard); !r)
      return r;
    return detail::record_hand_off(t, *p.process_tables, shard, epoch);
  });
  if (!ok)
    return std::move(ok).error();
  return dropped;
}

result<std::map<uint16_t, uint64_t>> runtime::process_hand_offs_done() {
  auto& p = *impl_;
  if (!p.process_tables)
    return make_error(errc::unavailable, "this runtime has no process managers");
  result<std::map<uint16_t, uint64_t>> done = std::map<uint16_t, uint64_t>{};
  auto ok = p.read_models->read([&](const read_model_txn& t) -> status {
    done = detail::hand_offs_done(t, *p.process_tables);
    return done ? status{} : done.error();
  });
  if (!ok)
    return std::move(ok).error();
  return done;
}

void runtime::import_shard(shard_import chunk, std::function<void(result<import_outcome>)> done) {
  if (!running()) {
    done(make_error(errc::unavailable, "the runtime is not running"));
    return;
  }
  // Called once even if the writer is gone before it runs the job (the runtime stopped).
  auto once = std::make_shared<detail::once_delivery<result<import_outcome>>>(
    std::move(done), "the runtime stopped before the import ran");
  caf::anon_send(impl_->writer, detail::import_atom::value,
                 detail::import_job{std::move(chunk), [once](result<import_outcome> r) {
                                      (*once)(std::move(r));
                                    }});
}

void runtime::forget_shard(uint16_t shard, uint16_t shard_count) {
  // Each router handles it before any command sent after this call (one sender's
  // messages arrive in order, and a later command's sender saw this call return).
  // Closed here, not by the router only: a command sent straight to a stale instance
  // after this call returned would decide on what it holds.
  for (auto& [type, agg] : impl_->aggregates) {
    agg.directory->close_shard(shard, shard_count);
    caf::anon_send(agg.router, detail::forget_atom::value, shard, shard_count);
  }
}

status runtime::await_projection(const std::string& name, global_position min_position,
                                 std::chrono::milliseconds timeout) {
  auto i = impl_->projections.find(name);
  if (i == impl_->projections.end())
    return make_error(errc::not_found, "no projection '" + name + "'");
  auto& mon = *i->second.monitor;
  if (min_position == 0 || mon.position() >= min_position)
    return {};
  if (mon.wait_for(min_position, timeout))
    return {};
  auto s = mon.state();
  if (s == projection_state::faulted || s == projection_state::stopped)
    return make_error(errc::unavailable, "projection '" + name + "' is " + to_string(s));
  return make_error(errc::timeout, "projection '" + name + "' is at position "
                                     + std::to_string(mon.position()) + ", not yet at "
                                     + std::to_string(min_position));
}

result<std::shared_ptr<projection_monitor>> runtime::projection_monitor_of(const std::string& name) const {
  auto i = impl_->projections.find(name);
  if (i == impl_->projections.end())
    return make_error(errc::not_found, "no projection '" + name + "'");
  return i->second.monitor;
}

namespace {

// The report of `monitor`, with its lag measured against the journal's head.
projection_info info_of(event_store& store, const projection_monitor& monitor) {
  auto head = store.last_position().value_or(0);
  auto position = monitor.position();
  timestamp_ns oldest_unapplied = 0;
  if (head > position) {
    auto ev = store.read_all(position, 1);
    if (ev && !ev->empty())
      oldest_unapplied = ev->front().timestamp;
  }
  return monitor.info(head, oldest_unapplied);
}

} // namespace

std::vector<projection_info> runtime::projections() const {
  std::vector<projection_info> out;
  for (const auto& [name, reg] : impl_->projections)
    out.push_back(info_of(*impl_->store, *reg.monitor));
  return out;
}

result<projection_info> runtime::projection(const std::string& name) const {
  auto i = impl_->projections.find(name);
  if (i == impl_->projections.end())
    return make_error(errc::not_found, "no projection '" + name + "'");
  return info_of(*impl_->store, *i->second.monitor);
}

namespace {

template <class Atom>
status control(runtime::impl& p, const std::string& name, Atom atom) {
  auto i = p.projections.find(name);
  if (i == p.projections.end())
    return make_error(errc::not_found, "no projection '" + name + "'");
  if (!i->second.actor)
    return make_error(errc::unavailable, "the runtime is not running");
  return p.ask_unit(i->second.actor, std::chrono::seconds(30), atom);
}

} // namespace

status runtime::restart_projection(const std::string& name) {
  return control(*impl_, name, detail::restart_atom::value);
}

status runtime::skip_projection_event(const std::string& name) {
  return control(*impl_, name, detail::skip_atom::value);
}

status runtime::rebuild_projection(const std::string& name) {
  return control(*impl_, name, detail::rebuild_atom::value);
}

status runtime::stop_projection(const std::string& name) {
  return control(*impl_, name, detail::stop_atom::value);
}

status runtime::add_aggregate(std::type_index type, const caf::actor& router,
                              detail::local_sender send,
                              std::shared_ptr<detail::instance_directory> directory) {
  impl_->aggregates.emplace(type, hosted_aggregate{router, std::move(send), std::move(directory)});
  return {};
}

bool runtime::hosts(std::type_index type) const {
  return impl_->aggregates.count(type) > 0;
}

result<caf::actor> runtime::router_of(std::type_index type) const {
  auto i = impl_->aggregates.find(type);
  if (i == impl_->aggregates.end())
    return make_error(errc::bad_request, "aggregate type not registered");
  return i->second.router;
}

void runtime::send_command(detail::outgoing_command cmd, std::function<void(command_result)> done) {
  auto* f = impl_->forwarder.get();
  if (f != nullptr && running()) {
    auto stream = cmd.stream_of(cmd.aggregate_id);
    if (f->is_remote(stream)) {
      if (cmd.encode == nullptr)
        return done(make_error(errc::bad_request, std::string{cmd.category}
                                                    + " commands are not cereal-serializable: they"
                                                      " cannot go to the node that owns " + stream));
      auto bytes = cmd.encode(cmd.command);
      if (!bytes)
        return done(std::move(bytes).error());
      f->forward({std::string{cmd.category}, std::move(cmd.aggregate_id), std::move(stream),
                  std::move(*bytes), std::move(cmd.options)},
                 std::move(done));
      return;
    }
  }
  send_local(cmd.type, std::move(cmd.aggregate_id), cmd.command, std::move(cmd.options),
             std::move(done));
}

void runtime::send_local(std::type_index type, std::string id, void* cmd, command_options options,
                         std::function<void(command_result)> done) {
  if (!running())
    return done(make_error(errc::unavailable, "the runtime is not running"));
  // Written before start() only: read without a lock.
  auto i = impl_->aggregates.find(type);
  if (i == impl_->aggregates.end())
    return done(make_error(errc::bad_request, "aggregate type not registered"));
  i->second.send(std::move(id), cmd, std::move(options), std::move(done));
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
