#include "annal/testing/runtime_fixture.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "annal/detail/service_spawn.hpp"

#include <random>
#include <stdexcept>
#include <string>

namespace annal::testing {

namespace {

std::filesystem::path fresh_folder() {
  std::random_device rd;
  auto p = std::filesystem::temp_directory_path()
           / ("annal-testkit-" + std::to_string(rd()) + "-" + std::to_string(rd()));
  std::filesystem::create_directories(p);
  return p;
}

} // namespace

runtime_fixture::runtime_fixture(fixture_options options)
  : options_(std::move(options)), folder_(fresh_folder()) {
  if (auto ok = open(); !ok) {
    std::error_code ec;
    std::filesystem::remove_all(folder_, ec);
    throw std::runtime_error("runtime_fixture: " + ok.error().message);
  }
}

namespace {

fixture_options with_setup(std::function<status(runtime&)> setup) {
  fixture_options o;
  o.setup = std::move(setup);
  return o;
}

} // namespace

runtime_fixture::runtime_fixture(std::function<status(runtime&)> setup)
  : runtime_fixture(with_setup(std::move(setup))) {}

runtime_fixture::~runtime_fixture() {
  rt_.reset(); // stops, releases the folder
  std::error_code ec;
  std::filesystem::remove_all(folder_, ec);
}

status runtime_fixture::open() {
  runtime_config cfg;
  if (options_.configure)
    options_.configure(cfg);
  cfg.data_dir = folder_;
  cfg.mode = options_.mode;
  faults_ = std::make_shared<journal_faults>();
  cfg.wrap_journal = wrap_with(faults_);
  if (options_.deterministic)
    cfg.caf_setup = [user = std::move(cfg.caf_setup)](caf::actor_system_config& c) {
      if (user)
        user(c);
      c.set("scheduler.policy", caf::atom("testing"));
    };
  coordinator_ = nullptr;
  auto r = runtime::open(std::move(cfg));
  if (!r)
    return std::move(r).error();
  rt_ = std::move(*r);
  coordinator_ = detail::test_coordinator_of(rt_->system());
  if (options_.setup)
    if (auto ok = options_.setup(*rt_); !ok)
      return ok;
  if (options_.start)
    return rt_->start();
  return {};
}

status runtime_fixture::crash_and_reopen() {
  faults_->crash();
  rt_.reset(); // its stop() can commit nothing any more: the crashed journal refuses it
  return open();
}

status runtime_fixture::reopen() {
  if (auto ok = rt_->stop(); !ok)
    return ok;
  rt_.reset();
  return open();
}

bool runtime_fixture::step() {
  return coordinator_ != nullptr && coordinator_->try_run_once();
}

std::size_t runtime_fixture::run(std::size_t max) {
  return coordinator_ != nullptr ? coordinator_->run(max) : 0;
}

std::size_t runtime_fixture::advance_time(std::chrono::nanoseconds d) {
  if (coordinator_ == nullptr)
    return 0;
  coordinator_->advance_time(std::chrono::duration_cast<caf::timespan>(d));
  return run();
}

std::size_t runtime_fixture::queued() const noexcept {
  return coordinator_ != nullptr ? coordinator_->jobs.size() : 0;
}

command_result runtime_fixture::await(std::future<command_result> f) {
  if (coordinator_ == nullptr)
    return f.get();
  for (std::size_t i = 0; i < 10000000; ++i) {
    if (f.wait_for(std::chrono::seconds(0)) == std::future_status::ready)
      return f.get();
    if (!step())
      break;
  }
  if (f.wait_for(std::chrono::seconds(0)) == std::future_status::ready)
    return f.get();
  return make_error(errc::timeout, "runtime_fixture::await: nothing left to run and no answer yet "
                                   "(does it wait on the clock? advance_time())");
}

} // namespace annal::testing
