// Soak test of the shop node (issue 10, part 6): the real shop-node, driven over loopback
// HTTP by a shop workload with its fulfilment process managers running, for a given time,
// from a small map (--map-initial-mb 1) so that the journal and the read models cross
// several map doublings; kill -9 at random points, and after each restart:
//   lost      every acknowledged command's event is in the journal, where its reply said
//   oversold  per sku, reserved + shipped never exceed restocked, on-hand never negative,
//             the inventory read model equals the events; orders hold what their status says
//   rebuild   (every --rebuild-every restarts, and at the end; node stopped) the read
//             models equal a rebuild of a copy of the journal, and `annal verify` passes
//   hang      every request, start, stop and catch-up is bounded; a node that does not
//             answer in time is a hang: its stacks are written (gdb), then it is killed
//   crash     the node must not die by itself
// Output (bench-format.md): JSON lines on stdout: the environment, one line per interval
// (commands/s, events/s, journal and read-model file and map sizes), one per check, and a
// final summary; progress and violations on stderr. Exit code 0 when nothing was violated,
// 1 otherwise (the summary and stderr say which), 2 on a usage error.
//
//   soak [--duration 120] [--round-min 5] [--round-max 20] [--clients 4] [--dir PATH] ...
//   soak --duration 1800                 # the documented 30-minute run
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "soak/child_process.hpp"
#include "soak/read_model_compare.hpp"
#include "soak/shop_workload.hpp"
#include "soak/soak_checks.hpp"
#include "soak/soak_options.hpp"
#include "soak/store_probe.hpp"
#include "support/bench_output.hpp"

using namespace annal::soak;
using annal::bench::json_line;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

class soak_run {
public:
  explicit soak_run(soak_options o, std::string self) : o_(std::move(o)), self_(std::move(self)) {}

  int run();

private:
  // -- the node ---------------------------------------------------------------------------
  bool start_node(const std::string& when);
  bool kill_node();
  bool stop_node(const std::string& when);
  void hang(const std::string& where);
  std::string crash_stacks(const std::string& binary, const std::string& label);
  bool node_died(const std::string& where);

  // -- phases -----------------------------------------------------------------------------
  bool run_round(std::chrono::seconds length);
  bool check_after_restart();
  bool verify_and_rebuild();

  void violation(const std::string& kind, const std::string& what);
  void interval_line(double dt, uint64_t& last_acked, uint64_t& last_position);
  void summary(bool clean);

  soak_options o_;
  std::string self_;
  std::filesystem::path data_;
  node_child node_;
  soak_ledger ledger_;
  stock_auditor auditor_;
  std::mt19937_64 rng_;
  clock_type::time_point started_;
  int round_ = 0;
  int restarts_ = 0;
  int node_starts_ = 0;
  int hangs_ = 0;
  int rebuilds_ = 0;
  uint64_t lost_ = 0;
  uint64_t oversold_ = 0;
  uint64_t checked_acks_ = 0;
  bool verify_ok_ = true;
  bool verify_ran_ = false;
  bool fatal_ = false;
  double max_store_mib_ = 0;
  double max_map_mib_ = 0;
  std::vector<std::string> violations_;
};

void soak_run::violation(const std::string& kind, const std::string& what) {
  std::cerr << "soak: VIOLATION " << kind << ": " << what << "\n";
  if (violations_.size() < 200)
    violations_.push_back(kind + ": " + what);
  json_line{}.str("bench", "soak").str("case", "violation").str("kind", kind).integer("round", round_)
    .str("what", what.substr(0, 6000)).print();
}

bool soak_run::start_node(const std::string& when) {
  std::vector<std::string> argv = {o_.node,
                                   "--data",
                                   data_.string(),
                                   "--http",
                                   "127.0.0.1:0",
                                   "--payment-timeout",
                                   o_.payment_timeout,
                                   "--scheduler.max-threads=2",
                                   "--annal.durability=" + o_.durability,
                                   "--annal.map-initial-mb=" + std::to_string(o_.map_initial_mb)};
  argv.insert(argv.end(), o_.node_args.begin(), o_.node_args.end());
  auto t0 = clock_type::now();
  auto err = node_.start(argv, data_.parent_path() / "node.log", o_.start_timeout);
  ++node_starts_;
  if (err == "hang") {
    hang("start (" + when + "): no URL within " + std::to_string(o_.start_timeout.count()) + " s");
    return false;
  }
  if (!err.empty()) {
    violation("crash", "start (" + when + "): " + err + "; log:\n" + tail_of(data_.parent_path() / "node.log"));
    fatal_ = true;
    return false;
  }
  json_line{}.str("bench", "soak").str("case", "start").str("when", when).integer("round", round_)
    .num("start_s", seconds_since(t0), 2).print();
  return true;
}

bool soak_run::kill_node() {
  if (node_died("before the kill -9"))
    return false;
  node_.kill9();
  ++restarts_;
  return true;
}

bool soak_run::stop_node(const std::string& when) {
  auto s = node_.terminate(o_.stop_timeout);
  if (!s.exited) {
    hang("stop (" + when + "): SIGTERM not obeyed within " + std::to_string(o_.stop_timeout.count()) + " s");
    return false;
  }
  if (!s.clean()) {
    violation("crash", "stop (" + when + "): the node ended with " + s.describe() + "; log:\n"
                         + tail_of(data_.parent_path() / "node.log"));
    fatal_ = true;
    return false;
  }
  return true;
}

void soak_run::hang(const std::string& where) {
  ++hangs_;
  fatal_ = true;
  auto file = data_.parent_path() / ("hang-" + std::to_string(hangs_) + "-stacks.txt");
  std::string stacks = "no stacks (gdb missing or failed)";
  if (node_.running() && dump_stacks(node_.pid(), file, std::chrono::seconds(120)))
    stacks = "stacks of every thread in " + file.string() + "; in Annal:" + summarize_stacks(file);
  auto journal = probe_store(data_ / "journal");
  violation("hang", where + "; journal " + annal::bench::fixed(journal.file_mib, 1) + " MiB of a "
                      + annal::bench::fixed(journal.map_mib, 0) + " MiB map; " + stacks
                      + "; node log: " + (data_.parent_path() / "node.log").string());
  node_.kill9();
}

bool soak_run::node_died(const std::string& where) {
  auto pid = node_.pid();
  auto s = node_.poll_exit();
  if (!s)
    return false;
  violation("crash", where + ": the node ended by itself with " + s->describe() + crash_stacks(o_.node, "node-" + std::to_string(pid))
                       + "; log:\n" + tail_of(data_.parent_path() / "node.log"));
  fatal_ = true;
  return true;
}

// The core file of a child that `binary` ran, when the kernel wrote one into the work
// folder (the driver runs there with core dumps on), turned into the stacks of every thread.
std::string soak_run::crash_stacks(const std::string& binary, const std::string& label) {
  auto work = data_.parent_path();
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator{work, ec}) {
    auto name = entry.path().filename().string();
    if (name != "core" && name.rfind("core.", 0) != 0)
      continue;
    auto core = work / ("crash-" + label + ".core");
    std::filesystem::rename(entry.path(), core, ec);
    auto file = work / ("crash-" + label + "-stacks.txt");
    auto r = run_bounded({"/usr/bin/gdb", "-batch", "-ex", "thread apply all bt", binary, core.string()},
                         file, std::chrono::seconds(120));
    if (!r.clean())
      return "; core in " + core.string();
    std::filesystem::remove(core, ec); // hundreds of MiB; the stacks are what tells
    return "; stacks of every thread in " + file.string() + "; in Annal:" + summarize_stacks(file);
  }
  return "; no core file";
}

void soak_run::interval_line(double dt, uint64_t& last_acked, uint64_t& last_position) {
  auto c = node_client(node_.port(), o_.request_timeout);
  auto h = c.get("/health");
  if (h.status == 0) {
    hang("GET /health got no answer within " + std::to_string(o_.request_timeout.count()) + " s");
    return;
  }
  uint64_t position = h.status == 200 ? h.json.value("position", last_position) : last_position;
  uint64_t acked = ledger_.acked;
  auto journal = probe_store(data_ / "journal");
  auto models = probe_store(data_ / "read-models");
  max_store_mib_ = std::max(max_store_mib_, journal.file_mib + models.file_mib);
  max_map_mib_ = std::max(max_map_mib_, journal.map_mib);
  json_line{}.str("bench", "soak").str("case", "interval").num("t_s", seconds_since(started_), 1)
    .integer("round", round_)
    .num("commands_per_s", static_cast<double>(acked - last_acked) / dt, 1)
    .num("events_per_s", static_cast<double>(position - std::min(position, last_position)) / dt, 1)
    .integer("position", static_cast<int64_t>(position))
    .num("journal_mib", journal.file_mib, 1).num("journal_map_mib", journal.map_mib, 0)
    .num("read_models_mib", models.file_mib, 1).num("read_models_map_mib", models.map_mib, 0)
    .integer("acked", static_cast<int64_t>(acked))
    .integer("refused", static_cast<int64_t>(ledger_.refused.load()))
    .integer("failed_5xx", static_cast<int64_t>(ledger_.failed.load()))
    .print();
  last_acked = acked;
  last_position = position;
}

// The workload for `length` against the running node, then kill -9.
bool soak_run::run_round(std::chrono::seconds length) {
  ++round_;
  workload_options wo;
  wo.clients = o_.clients;
  wo.max_skus = o_.max_skus;
  wo.request_timeout = o_.request_timeout;
  wo.run_id = "s" + std::to_string(o_.seed % 100000);
  shop_workload w{wo, ledger_, node_.port(), o_.seed, round_};
  ledger_.last_ack_ticks = clock_type::now().time_since_epoch().count();
  uint64_t last_acked = ledger_.acked;
  uint64_t last_position = 0;
  {
    auto c = node_client(node_.port(), o_.request_timeout);
    auto h = c.get("/health");
    last_position = h.status == 200 ? h.json.value("position", uint64_t{0}) : 0;
  }
  auto round_start = clock_type::now();
  auto last_line = round_start;
  w.start();
  bool ok = true;
  while (ok && clock_type::now() - round_start < length) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (node_died("round " + std::to_string(round_))) {
      ok = false;
      break;
    }
    if (auto t = w.timed_out(); !t.empty()) {
      hang(t);
      ok = false;
      break;
    }
    auto last_ack = clock_type::time_point{clock_type::duration{ledger_.last_ack_ticks.load()}};
    if (clock_type::now() - last_ack > o_.stall_timeout) {
      hang("no command acknowledged for " + std::to_string(o_.stall_timeout.count()) + " s (5xx so far: "
           + std::to_string(ledger_.failed.load()) + ")");
      ok = false;
      break;
    }
    if (clock_type::now() - last_line >= o_.interval) {
      interval_line(seconds_since(last_line), last_acked, last_position);
      last_line = clock_type::now();
      if (fatal_)
        ok = false;
    }
  }
  w.expect_failures();
  if (ok)
    ok = kill_node();
  else
    node_.kill9(); // after a hang or crash: the clients must not wait for it
  w.stop();
  return ok;
}

bool soak_run::check_after_restart() {
  auto t0 = clock_type::now();
  auto c = node_client(node_.port(), o_.request_timeout);
  // Nothing acknowledged lost.
  auto acks = ledger_.take_unchecked();
  std::vector<std::string> messages;
  std::string error;
  auto lost = find_lost(c, acks, messages, error);
  checked_acks_ += acks.size();
  lost_ += lost;
  for (const auto& m : messages)
    violation("lost", m);
  if (!error.empty()) {
    if (node_died("checking acks"))
      return false;
    hang("checking acks: " + error);
    return false;
  }
  // Fulfilment finishes what it started, projections catch up.
  auto orders = ledger_.take_touched();
  auto t1 = clock_type::now();
  auto not_quiet = await_quiet(c, orders, o_.quiet_timeout);
  if (!not_quiet.empty()) {
    if (node_died("waiting for quiet"))
      return false;
    hang("not quiet within " + std::to_string(o_.quiet_timeout.count()) + " s after restart: " + not_quiet);
    return false;
  }
  auto quiet_s = seconds_since(t1);
  // No oversell; orders hold what their status says.
  uint64_t oversold = 0;
  auto broken = auditor_.audit(c, ledger_.skus(), oversold);
  oversold_ += oversold;
  for (const auto& b : broken)
    violation(b.rfind("oversold", 0) == 0 ? "oversold" : "stock", b);
  for (const auto& b : auditor_.check_orders(c, orders))
    violation("orders", b);
  if (node_died("checks"))
    return false;
  json_line{}.str("bench", "soak").str("case", "check").integer("round", round_)
    .integer("acks_checked", static_cast<int64_t>(acks.size())).integer("lost", static_cast<int64_t>(lost))
    .integer("orders_checked", static_cast<int64_t>(orders.size()))
    .integer("oversold", static_cast<int64_t>(oversold))
    .num("quiet_s", quiet_s, 2).num("check_s", seconds_since(t0), 2).print();
  return true;
}

// With the node stopped: annal verify, then read models against a rebuild.
bool soak_run::verify_and_rebuild() {
  auto t0 = clock_type::now();
  auto out = data_.parent_path() / ("verify-" + std::to_string(round_) + ".txt");
  auto v = run_bounded({o_.annal, "--data", data_.string(), "--json", "verify"}, out, o_.verify_timeout);
  verify_ran_ = true;
  bool verified = v.clean();
  if (!verified) {
    verify_ok_ = false;
    std::ifstream in{out};
    std::string line;
    std::string problems;
    for (int n = 0; n < 10 && std::getline(in, line);)
      if (line.find("problem") != std::string::npos || line.find("annal:") != std::string::npos) {
        problems += "\n  " + line;
        ++n;
      }
    violation("verify", "annal verify ended with " + v.describe() + " (" + out.string() + ")" + problems);
  }
  auto verify_s = seconds_since(t0);
  auto t1 = clock_type::now();
  auto scratch = data_.parent_path() / ("rebuild-" + std::to_string(round_));
  std::error_code ec;
  std::filesystem::remove_all(scratch, ec);
  auto log = data_.parent_path() / ("rebuild-" + std::to_string(round_) + ".log");
  auto r = run_bounded({self_, "--rebuild-into", scratch.string(), "--from", data_.string(), "--verify-timeout",
                        std::to_string(o_.verify_timeout.count())},
                       log, o_.verify_timeout);
  bool same = false;
  if (!r.clean()) {
    violation(r.exited ? "rebuild" : "hang",
              "the rebuild of a journal copy ended with " + r.describe()
                + (r.signal != 0 ? crash_stacks(self_, "rebuild-" + std::to_string(round_)) : std::string{})
                + ": " + tail_of(log, 2000));
  } else {
    std::string error;
    auto diff = compare_read_models(data_, scratch, error);
    if (!error.empty())
      violation("rebuild", error);
    for (const auto& d : diff)
      violation("rebuild", "read models differ from a rebuild: " + d);
    same = error.empty() && diff.empty();
  }
  ++rebuilds_;
  std::filesystem::remove_all(scratch, ec);
  json_line{}.str("bench", "soak").str("case", "verify_rebuild").integer("round", round_)
    .boolean("verify_ok", verified).boolean("read_models_equal_rebuild", same)
    .num("verify_s", verify_s, 2).num("rebuild_s", seconds_since(t1), 2).print();
  return true;
}

void soak_run::summary(bool clean) {
  auto journal = probe_store(data_ / "journal");
  auto models = probe_store(data_ / "read-models");
  max_store_mib_ = std::max(max_store_mib_, journal.file_mib + models.file_mib);
  max_map_mib_ = std::max(max_map_mib_, journal.map_mib);
  std::string kinds;
  for (const auto& v : violations_) {
    auto k = v.substr(0, v.find(':'));
    if (kinds.find(k) == std::string::npos)
      kinds += (kinds.empty() ? "" : ",") + k;
  }
  json_line{}.str("bench", "soak").str("case", "summary").str("result", clean ? "ok" : "fail")
    .str("violations", kinds).num("elapsed_s", seconds_since(started_), 1).integer("rounds", round_)
    .integer("restarts", restarts_).integer("acked", static_cast<int64_t>(ledger_.acked.load()))
    .integer("acks_checked", static_cast<int64_t>(checked_acks_)).integer("lost", static_cast<int64_t>(lost_))
    .integer("oversold", static_cast<int64_t>(oversold_)).integer("hangs", hangs_)
    .boolean("verify_ok", verify_ran_ && verify_ok_).integer("rebuild_checks", rebuilds_)
    .num("max_store_mib", max_store_mib_, 1).num("journal_mib", journal.file_mib, 1)
    .num("max_journal_map_mib", max_map_mib_, 0).num("read_models_mib", models.file_mib, 1)
    .str("seed", std::to_string(o_.seed)).print();
  std::cerr << "soak: " << (clean ? "OK" : "FAILED") << " after " << round_ << " rounds, " << restarts_
            << " kill -9, " << ledger_.acked.load() << " acked, " << lost_ << " lost, " << oversold_
            << " oversold, " << hangs_ << " hangs; work folder " << data_.parent_path().string() << "\n";
  for (const auto& v : violations_)
    std::cerr << "  " << v.substr(0, 500) << "\n";
}

int soak_run::run() {
  if (o_.seed == 0)
    o_.seed = std::random_device{}() % 1000000 + 1;
  rng_.seed(o_.seed);
  auto work = o_.dir.empty() ? std::filesystem::temp_directory_path() / ("annal-soak-" + std::to_string(::getpid()))
                             : std::filesystem::absolute(o_.dir);
  std::error_code ec;
  std::filesystem::remove_all(work / "data", ec);
  std::filesystem::create_directories(work, ec);
  // A node that crashes leaves its core here (core_pattern "core"): its stacks are reported.
  std::filesystem::current_path(work, ec);
  rlimit core{};
  if (::getrlimit(RLIMIT_CORE, &core) == 0) {
    core.rlim_cur = core.rlim_max;
    ::setrlimit(RLIMIT_CORE, &core);
  }
  data_ = work / "data";
  started_ = clock_type::now();
  annal::bench::env_line(o_.durability).str("case", "soak").integer("seed", static_cast<int64_t>(o_.seed))
    .integer("duration_s", o_.duration.count()).integer("clients", o_.clients)
    .integer("map_initial_mb", static_cast<int64_t>(o_.map_initial_mb)).str("dir", work.string()).print();
  std::cerr << "soak: seed " << o_.seed << ", work folder " << work.string() << "\n";

  bool ok = start_node("fresh");
  if (ok) {
    std::string why;
    if (!seed_catalog(node_.port(), ledger_, o_.skus, o_.request_timeout, why)) {
      if (!node_died("seeding"))
        hang("seeding the catalog: " + why);
      ok = false;
    }
  }
  auto workload_left = o_.duration;
  std::uniform_int_distribution<int64_t> length{o_.round_min.count(), o_.round_max.count()};
  while (ok && workload_left.count() > 0 && round_ < o_.max_rounds) {
    auto len = std::min(workload_left, std::chrono::seconds(length(rng_)));
    workload_left -= len;
    bool last = workload_left.count() <= 0 || round_ + 1 >= o_.max_rounds;
    ok = run_round(len) && start_node("after kill -9") && check_after_restart();
    if (!ok)
      break;
    bool rebuild = last || (o_.rebuild_every > 0 && restarts_ % o_.rebuild_every == 0);
    if (rebuild) {
      ok = stop_node("for verify and rebuild") && verify_and_rebuild();
      if (ok && !last)
        ok = start_node("after verify and rebuild");
    }
  }
  if (node_.running() && !fatal_)
    stop_node("at the end");
  node_.kill9();
  bool clean = violations_.empty() && !fatal_ && verify_ran_;
  if (!verify_ran_ && violations_.empty())
    violation("incomplete", "the run ended before the first verify and rebuild");
  summary(clean);
  if (clean && !o_.keep)
    std::filesystem::remove_all(work, ec);
  return clean ? 0 : 1;
}

std::string self_path(const char* argv0) {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string{argv0} : p.string();
}

} // namespace

int main(int argc, char** argv) {
  auto o = parse_options(argc, argv);
  if (!o.rebuild_into.empty())
    return rebuild_child(o.rebuild_from, o.rebuild_into, o.verify_timeout);
  soak_run run{std::move(o), self_path(argv[0])};
  return run.run();
}
