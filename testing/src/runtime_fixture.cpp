#include "annal/testing/runtime_fixture.hpp"

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
  auto r = runtime::open(std::move(cfg));
  if (!r)
    return std::move(r).error();
  rt_ = std::move(*r);
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

} // namespace annal::testing
