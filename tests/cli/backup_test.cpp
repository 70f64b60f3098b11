// backup takes a consistent copy while a writer keeps appending (and growing the map):
// the copy verifies clean, its checkpoints are never ahead of its journal, and a node
// pointed at it carries on from where the copy ends.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "annal/read_model_store.hpp"
#include "annal/runtime.hpp"
#include "cli_json.hpp"
#include "environment_copy.hpp"
#include "shop/domain/order.hpp"
#include "shop/model.hpp"
#include "shop_store.hpp"
#include "temp_dir.hpp"

using namespace annal;
using namespace annal::test;
using namespace std::chrono_literals;

namespace {

// Appends orders with bulky payloads until stopped, and moves a projection-like
// checkpoint behind it (as a projection would: never ahead of what it has read).
class busy_writer {
public:
  explicit busy_writer(const std::filesystem::path& data) : data_(data) {
    thread_ = std::thread([this] { run(); });
  }
  ~busy_writer() { stop(); }

  void stop() {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
  }
  uint64_t appended() const { return appended_; }
  bool failed() const { return failed_; }

private:
  void run() {
    // A small map: it has to grow while the backup runs.
    auto store = open_test_journal(data_, std::size_t{1} << 20);
    store_options o;
    o.dir = data_ / "read-models";
    o.mode = durability::no_sync;
    auto rm = read_model_store::open(o);
    if (!rm) {
      failed_ = true;
      return;
    }
    for (uint64_t i = 0; !stop_; ++i) {
      auto stream = "order-bulk-" + std::to_string(i);
      shop::order_placed placed;
      placed.order_id = "bulk-" + std::to_string(i);
      placed.customer_id = std::string(3000, static_cast<char>('a' + i % 26));
      placed.lines = {shop::order_line{"sku-1", 1, 100}};
      placed.total_cents = 100;
      std::vector<new_event> evs;
      evs.push_back(shop_event(placed, stream, 1));
      evs.push_back(shop_event(shop::order_confirmed{}, stream, 2));
      auto r = store->append(stream, expected_version::no_stream(), std::move(evs));
      if (!r || !(*rm)->save_checkpoint("mirror", r->last_position)) {
        failed_ = true;
        return;
      }
      ++appended_;
    }
  }

  std::filesystem::path data_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> appended_{0};
};

} // namespace

TEST_CASE("backup under concurrent writes restores to a consistent store", "[cli][backup]") {
  temp_dir data, target;
  write_shop_journal(data.path());
  auto dest = target / "backup";
  nlohmann::json copied;
  {
    busy_writer writer{data.path()};
    while (writer.appended() < 200 && !writer.failed())
      std::this_thread::sleep_for(10ms);
    REQUIRE_FALSE(writer.failed());
    // verify beside the writer sees one consistent state.
    auto live = run_annal({"--data", data.path().string(), "--json", "verify"});
    INFO("verify: " << live.out << live.err);
    CHECK(live.exit_code == 0);
    auto r = run_annal({"--data", data.path().string(), "--json", "backup", dest.string()});
    INFO("backup: " << r.out << r.err);
    REQUIRE(r.exit_code == 0);
    auto lines = json_lines(r);
    REQUIRE(lines.size() == 1);
    copied = lines[0];
    // Let it write on after the copy, then stop.
    auto at_copy = writer.appended();
    while (writer.appended() < at_copy + 50 && !writer.failed())
      std::this_thread::sleep_for(10ms);
    writer.stop();
    REQUIRE_FALSE(writer.failed());
  }
  uint64_t last = copied["last_position"];
  CHECK(last > shop_events);
  CHECK(copied["journal_bytes"].get<uint64_t>() > 0);
  CHECK(copied["read_models_bytes"].get<uint64_t>() > 0);

  auto v = run_annal({"--data", dest.string(), "--json", "verify"});
  INFO("verify of the copy: " << v.out << v.err);
  CHECK(v.exit_code == 0);
  auto summary = of_kind(json_lines(v), "summary");
  REQUIRE(summary.size() == 1);
  CHECK(summary[0]["events"] == last);
  CHECK(summary[0]["problems"] == 0);

  auto p = run_annal({"--data", dest.string(), "--json", "projections"});
  REQUIRE(p.exit_code == 0);
  bool found = false;
  for (const auto& row : json_lines(p))
    if (row["name"] == "mirror") {
      found = true;
      CHECK(row["checkpoint"].get<uint64_t>() <= last);
      CHECK(row["status"] != "ahead of the journal");
    }
  CHECK(found);

  // Restore = point a node at the copy: it carries on after the copied log.
  runtime_config cfg;
  cfg.data_dir = dest;
  cfg.mode = durability::no_sync;
  auto rt = runtime::open(cfg);
  REQUIRE(rt);
  REQUIRE(shop::register_aggregates(**rt));
  REQUIRE((*rt)->start());
  shop::place_order cmd{"after-restore", "c-1", {shop::order_line{"sku-1", 1, 100}}};
  auto placed = (*rt)->send<shop::order>("after-restore", cmd).get();
  REQUIRE(placed);
  CHECK(placed->position == last + 1);
  REQUIRE((*rt)->stop());
}

TEST_CASE("backup refuses a folder that is not empty or lies inside the data folder",
          "[cli][backup]") {
  temp_dir data, target;
  write_shop_journal(data.path());
  std::filesystem::create_directories(target / "full" / "x");
  auto full = run_annal({"--data", data.path().string(), "backup", (target / "full").string()});
  CHECK(full.exit_code == 2);
  CHECK(full.err.find("must be empty") != std::string::npos);
  auto inside = run_annal({"--data", data.path().string(), "backup", (data / "copy").string()});
  CHECK(inside.exit_code == 2);
  CHECK(inside.err.find("outside the data folder") != std::string::npos);
  // Nothing was left behind by the refusals.
  CHECK(std::filesystem::exists(target / "full" / "x"));
  CHECK_FALSE(std::filesystem::exists(data / "copy"));

  auto ok = run_annal({"--data", data.path().string(), "backup", (target / "fresh").string()});
  REQUIRE(ok.exit_code == 0);
  CHECK(ok.out.find("last position") != std::string::npos);
  CHECK(std::filesystem::exists(target / "fresh" / "journal" / "data.mdb"));
  CHECK_FALSE(std::filesystem::exists(target / "fresh" / "read-models"));
}

TEST_CASE("a copy adopts a map that another process grew meanwhile", "[cli][backup]") {
  // event_store::backup fails with MDB_MAP_RESIZED here (a read-only handle cannot see
  // the grown map); annal's copy adopts the new size and retries.
  temp_dir data, target;
  {
    auto store = open_test_journal(data.path(), std::size_t{1} << 20);
    append_order(*store, "first");
  }
  store_options ro;
  ro.dir = data / "journal";
  ro.read_only = true;
  auto reader = event_store::open(ro);
  REQUIRE(reader);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // Another process grows the map far past what the reader mapped.
    auto store = open_test_journal(data.path(), std::size_t{1} << 20);
    for (int i = 0; i < 1500; ++i) {
      new_event e;
      e.type = "Filler";
      e.payload = std::string(4000, 'f');
      std::vector<new_event> one{e};
      if (!store->append("filler-1", expected_version::any(), std::move(one)))
        ::_exit(1);
    }
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(cli::copy_open_environment((*reader)->native_handle(), target / "journal"));
  reader->reset();
  auto v = run_annal({"--data", target.path().string(), "--json", "verify"});
  REQUIRE(v.exit_code == 0);
  auto summary = of_kind(json_lines(v), "summary");
  REQUIRE(summary.size() == 1);
  CHECK(summary[0]["events"] == 3 + 1500);
}
