// Soak test of the shop as a cluster (issue 12): real shop-node processes on loopback, the
// soak's shop workload through every node at once, and in each round one fault or one
// operator action while it runs, in turn:
//   kill      kill -9 of a random node, restarted 2 s later (its shards fail fast meanwhile);
//   drain     a random node drains (every shard it owns moves to the others), then the
//             cluster rebalances: a third or more of all history is copied between nodes;
//   crash     a drain with a kill -9 of a random node in the middle of it, then a rebalance;
//   join      (round 2, with --join) a fourth node, which the founders do not know, starts
//             with the file marking it "joins" and takes its share of the shards.
// After each round: every node runs and sees every other up, every node's map is the same,
// and every command acknowledged in the round is in its owner's journal (moves included);
// at the end: the read models of every node converge, no acknowledged order is left
// undecided or confirmed past the payment timeout (--payment-timeout, 20 s: the timers
// fire during the run and move with their shards), and `annal verify` passes on every
// node's store. Grows stores past map doublings from a 1 MiB map (--map-initial-mb).
// Output (bench-format.md): JSON lines on stdout (environment, one line per interval with
// each node's journal size, one per action and per check, a summary); violations on
// stderr. Exit code 0 when nothing was violated, 1 otherwise, 2 on a usage error.
// --node-arg ARG (repeatable) goes to every node, e.g. --node-arg --max-live-orders=200 to
// passivate orders between their steps.
//
//   cluster_soak [--duration 600] [--round 40] [--clients 2] [--join] [--dir PATH] [--keep]
//                [--durability no_sync|durable] [--map-initial-mb 1] [--seed N]
//                [--payment-timeout 20] [--node-arg ARG]...
#include <atomic>
#include <csignal>

#include <algorithm>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "soak/child_process.hpp"
#include "soak/cluster_soak_checks.hpp"
#include "soak/shop_workload.hpp"
#include "soak/store_probe.hpp"
#include "support/bench_output.hpp"
#include "annal/testing/loopback_port.hpp"

using namespace annal::soak;
using annal::bench::json_line;
using clock_type = std::chrono::steady_clock;
using std::chrono::seconds;

namespace {

// How long the nodes' shard maps may differ at a round's check (see check_round).
constexpr seconds map_settle{30};

struct options {
  seconds duration{600};
  seconds round{40};
  int max_rounds = 1000;
  int clients = 2;                 // per node
  bool join = false;
  std::filesystem::path dir;
  bool keep = false;
  std::string durability = "no_sync";
  std::size_t map_initial_mb = 1;
  uint64_t seed = 0;
  seconds interval{10};
  seconds request_timeout{30};
  seconds move_timeout{900};       // a drain or rebalance, all its moves
  seconds verify_timeout{1200};
  seconds payment_timeout{20};
  std::vector<std::string> node_args; // appended to every node's command line
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "cluster_soak: " << why << "\n"
            << "cluster_soak [--duration S] [--round S] [--max-rounds N] [--clients N] [--join] [--dir PATH]\n"
               "             [--keep] [--durability no_sync|durable] [--map-initial-mb N] [--seed N]\n"
               "             [--interval S] [--payment-timeout S] [--node-arg ARG]...\n";
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage(a + " needs a value");
      return argv[++i];
    };
    auto number = [&]() -> uint64_t {
      auto v = value();
      if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
        usage(a + " needs a number, not '" + v + "'");
      return std::stoull(v);
    };
    if (a == "--duration") o.duration = seconds(number());
    else if (a == "--round") o.round = seconds(std::max<uint64_t>(number(), 10));
    else if (a == "--max-rounds") o.max_rounds = static_cast<int>(number());
    else if (a == "--clients") o.clients = static_cast<int>(std::max<uint64_t>(number(), 1));
    else if (a == "--join") o.join = true;
    else if (a == "--dir") o.dir = value();
    else if (a == "--keep") o.keep = true;
    else if (a == "--durability") o.durability = value();
    else if (a == "--map-initial-mb") o.map_initial_mb = number();
    else if (a == "--seed") o.seed = number();
    else if (a == "--interval") o.interval = seconds(std::max<uint64_t>(number(), 1));
    else if (a == "--payment-timeout") o.payment_timeout = seconds(std::max<uint64_t>(number(), 1));
    else if (a == "--node-arg") o.node_args.push_back(value());
    else usage("unknown option " + a);
  }
  if (o.durability != "no_sync" && o.durability != "durable")
    usage("--durability is no_sync or durable");
  return o;
}

// Set by SIGINT or SIGTERM: the run ends at the next check and kills what it started.
std::atomic<bool> interrupted{false};

extern "C" void on_stop_signal(int) {
  interrupted = true;
}

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

struct node_slot {
  std::string id;
  uint16_t http_port = 0;
  uint16_t cluster_port = 0;
  bool joins = false;
  bool started = false;           // has run (a joiner before its join has not)
  std::string config = "cluster.json";
  node_child child;
  double max_journal_mib = 0;
  double max_map_mib = 0;
};

class cluster_soak {
public:
  explicit cluster_soak(options o) : o_(std::move(o)) {}
  int run();

private:
  void write_configs();
  bool start(node_slot& n, const std::string& when);
  bool restart_after_kill(node_slot& n);
  bool all_up();
  bool await_all_up(seconds bound);
  std::map<std::string, shop_client> clients(seconds timeout);
  std::vector<node_slot*> running();
  node_slot& random_running();
  bool died(const std::string& where);
  void violation(const std::string& kind, const std::string& what);
  void interval_line(double dt, uint64_t& last_acked);
  std::future<std::string> operator_call(node_slot& n, const std::string& target);
  // `callee_killed`: the node answering the call was the round's kill -9 victim.
  void record_moves(const std::string& what, const std::string& answer, double s, bool callee_killed);
  bool run_round();
  bool check_round();
  bool finish();
  bool orders_decided();

  options o_;
  std::filesystem::path work_;
  std::vector<std::unique_ptr<node_slot>> nodes_;
  soak_ledger ledger_;
  std::mt19937_64 rng_;
  clock_type::time_point started_;
  clock_type::time_point stopped_at_; // the workload's latest stop
  int round_ = 0;
  int kills_ = 0;
  int moves_ = 0;
  int operator_failures_ = 0;
  int calls_cut_ = 0; // operator calls whose node was killed under them
  uint64_t lost_ = 0;
  uint64_t checked_ = 0;
  bool fatal_ = false;
  std::vector<std::string> violations_;
};

void cluster_soak::violation(const std::string& kind, const std::string& what) {
  std::cerr << "cluster_soak: VIOLATION " << kind << ": " << what.substr(0, 2000) << "\n";
  if (violations_.size() < 200)
    violations_.push_back(kind + ": " + what);
  json_line{}.str("bench", "cluster_soak").str("case", "violation").str("kind", kind).integer("round", round_)
    .str("what", what.substr(0, 4000)).print();
}

void cluster_soak::write_configs() {
  std::ofstream{work_ / "secret"} << "cluster-soak-secret-0123456789abcdef\n";
  auto file = [&](bool with_joiner) {
    nlohmann::json j;
    j["secret_file"] = (work_ / "secret").string();
    j["shard_count"] = 64;
    j["move_timeout_ms"] = 120000;
    for (const auto& n : nodes_)
      if (!n->joins || with_joiner) {
        nlohmann::json m{{"id", n->id}, {"host", "127.0.0.1"}, {"port", n->cluster_port}};
        if (n->joins)
          m["joins"] = true;
        j["members"].push_back(m);
      }
    return j.dump(2);
  };
  std::ofstream{work_ / "cluster.json"} << file(false);
  std::ofstream{work_ / "join.json"} << file(true);
}

bool cluster_soak::start(node_slot& n, const std::string& when) {
  std::vector<std::string> argv{SOAK_SHOP_NODE_BINARY,
                                "--data",
                                (work_ / ("data-" + n.id)).string(),
                                "--http",
                                "127.0.0.1:" + std::to_string(n.http_port),
                                "--node-id",
                                n.id,
                                "--cluster-config",
                                (work_ / n.config).string(),
                                "--payment-timeout",
                                std::to_string(o_.payment_timeout.count()) + "s",
                                "--scheduler.max-threads=2",
                                "--annal.durability=" + o_.durability,
                                "--annal.map-initial-mb=" + std::to_string(o_.map_initial_mb)};
  argv.insert(argv.end(), o_.node_args.begin(), o_.node_args.end());
  auto t0 = clock_type::now();
  auto err = n.child.start(argv, work_ / ("node-" + n.id + ".log"), seconds(180));
  if (!err.empty()) {
    violation(err == "hang" ? "hang" : "crash", "start of '" + n.id + "' (" + when + "): " + err + "; log:\n"
                                                  + tail_of(work_ / ("node-" + n.id + ".log")));
    fatal_ = true;
    n.child.kill9();
    return false;
  }
  n.started = true;
  json_line{}.str("bench", "cluster_soak").str("case", "start").str("node", n.id).str("when", when)
    .integer("round", round_).num("start_s", seconds_since(t0), 2).print();
  return true;
}

std::vector<node_slot*> cluster_soak::running() {
  std::vector<node_slot*> out;
  for (auto& n : nodes_)
    if (n->child.running())
      out.push_back(n.get());
  return out;
}

node_slot& cluster_soak::random_running() {
  auto r = running();
  return *r.at(static_cast<std::size_t>(rng_() % r.size()));
}

bool cluster_soak::died(const std::string& where) {
  for (auto& n : nodes_) {
    auto s = n->child.poll_exit();
    if (!s)
      continue;
    violation("crash", where + ": node '" + n->id + "' ended by itself with " + s->describe() + "; log:\n"
                         + tail_of(work_ / ("node-" + n->id + ".log")));
    fatal_ = true;
  }
  return fatal_;
}

std::map<std::string, shop_client> cluster_soak::clients(seconds timeout) {
  std::map<std::string, shop_client> out;
  for (auto* n : running())
    out.emplace(n->id, node_client(n->http_port, timeout));
  return out;
}

// True when every running node sees every other started node up.
bool cluster_soak::all_up() {
  for (auto* n : running()) {
    auto r = node_client(n->http_port, seconds(5)).get("/cluster/status");
    if (r.status != 200)
      return false;
    for (const auto& peer : nodes_) {
      if (!peer->started || peer->id == n->id)
        continue;
      bool up = false;
      for (const auto& m : r.json["members"])
        up = up || (m["id"] == peer->id && m["health"] == "up");
      if (!up)
        return false;
    }
  }
  return true;
}

bool cluster_soak::await_all_up(seconds bound) {
  auto deadline = clock_type::now() + bound;
  while (!all_up()) {
    if (died("waiting for the links"))
      return false;
    if (clock_type::now() > deadline) {
      violation("links", "the nodes did not all see each other up within " + std::to_string(bound.count()) + " s");
      fatal_ = true;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return true;
}

void cluster_soak::interval_line(double dt, uint64_t& last_acked) {
  uint64_t acked = ledger_.acked;
  json_line line;
  line.str("bench", "cluster_soak").str("case", "interval").num("t_s", seconds_since(started_), 1)
    .integer("round", round_).num("commands_per_s", static_cast<double>(acked - last_acked) / dt, 1)
    .integer("acked", static_cast<int64_t>(acked))
    .integer("failed_5xx", static_cast<int64_t>(ledger_.failed.load()))
    .integer("no_answer", static_cast<int64_t>(ledger_.no_answer.load()));
  for (auto& n : nodes_) {
    auto journal = probe_store(work_ / ("data-" + n->id) / "journal");
    n->max_journal_mib = std::max(n->max_journal_mib, journal.file_mib);
    n->max_map_mib = std::max(n->max_map_mib, journal.map_mib);
    line.num("journal_mib_" + n->id, journal.file_mib, 1).num("map_mib_" + n->id, journal.map_mib, 0);
  }
  line.print();
  last_acked = acked;
}

// A drain or rebalance asked of node `n`, answered on another thread (it takes as long as
// its moves): the answer's body, or "error: ..." when it failed.
std::future<std::string> cluster_soak::operator_call(node_slot& n, const std::string& target) {
  auto port = n.http_port;
  auto timeout = o_.move_timeout;
  return std::async(std::launch::async, [port, timeout, target] {
    auto r = node_client(port, timeout).post(target, nlohmann::json::object());
    if (r.status == 200)
      return r.text;
    return "error: " + std::to_string(r.status) + " " + r.text.substr(0, 300);
  });
}

void cluster_soak::record_moves(const std::string& what, const std::string& answer, double s,
                                bool callee_killed) {
  json_line line;
  line.str("bench", "cluster_soak").str("case", "moves").str("what", what).integer("round", round_)
    .num("seconds", s, 2);
  if (answer.rfind("error: ", 0) == 0) {
    // A call whose node was killed under it gets no answer: the round's fault, not a failure.
    (callee_killed ? calls_cut_ : operator_failures_) += 1;
    line.str("error", answer.substr(7, 300)).boolean("callee_killed", callee_killed).print();
    return;
  }
  auto j = nlohmann::json::parse(answer, nullptr, false);
  double max_pause = 0;
  uint64_t max_head = 0;
  std::size_t n = j.is_object() && j.contains("moves") ? j["moves"].size() : 0;
  for (std::size_t i = 0; i < n; ++i) {
    max_pause = std::max(max_pause, j["moves"][i].value("pause_ms", 0.0));
    max_head = std::max(max_head, j["moves"][i].value("head", uint64_t{0}));
  }
  moves_ += static_cast<int>(n);
  line.integer("moved", static_cast<int64_t>(n)).num("max_pause_ms", max_pause, 1)
    .integer("largest_shard_head", static_cast<int64_t>(max_head)).print();
}

bool cluster_soak::restart_after_kill(node_slot& n) {
  std::this_thread::sleep_for(seconds(2));
  if (n.started && nodes_.back()->started)
    n.config = "join.json"; // the operator's file names the joined node since it joined
  return start(n, "after kill -9");
}

// One round: the workload through every running node, and the round's action.
bool cluster_soak::run_round() {
  ++round_;
  std::vector<std::unique_ptr<shop_workload>> loads;
  std::map<std::string, shop_workload*> load_of;
  auto launch = [&](node_slot& n) {
    workload_options wo;
    wo.clients = o_.clients;
    wo.request_timeout = o_.request_timeout;
    wo.run_id = "cs" + std::to_string(o_.seed % 100000) + n.id;
    loads.push_back(std::make_unique<shop_workload>(wo, ledger_, n.http_port, o_.seed, round_));
    load_of[n.id] = loads.back().get();
    loads.back()->start();
  };
  for (auto* n : running())
    launch(*n);
  const char* kinds[] = {"kill", "drain", "crash"};
  bool joining = o_.join && round_ == 2;
  std::string kind = joining ? "join" : kinds[(round_ - 1) % 3];
  auto round_start = clock_type::now();
  auto act_at = round_start + o_.round * (3 + rng_() % 4) / 10;
  auto last_line = round_start;
  uint64_t last_acked = ledger_.acked;
  bool acted = false;
  node_slot* victim = nullptr;
  clock_type::time_point kill_at{};
  std::future<std::string> call;
  std::string call_what;
  std::string call_node;
  bool call_cut = false;
  clock_type::time_point call_start;
  ledger_.last_ack_ticks = clock_type::now().time_since_epoch().count();
  while (!fatal_ && !interrupted) {
    auto now = clock_type::now();
    if (now - round_start >= o_.round && acted && !call.valid() && !victim)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (died("round " + std::to_string(round_)))
      break;
    for (auto& l : loads)
      if (auto t = l->timed_out(); !t.empty()) {
        violation("hang", t);
        fatal_ = true;
      }
    if (!acted && now >= act_at) {
      acted = true;
      if (kind == "join") {
        auto& d = *nodes_.back();
        if (start(d, "joining"))
          launch(d);
      } else if (kind == "kill") {
        victim = &random_running();
        kill_at = now;
      } else {
        auto& drained = random_running();
        call_what = "drain " + drained.id;
        call_node = drained.id;
        call_start = now;
        call = operator_call(drained, "/cluster/drain");
        if (kind == "crash") {
          victim = &random_running();
          kill_at = now + std::chrono::milliseconds(500 + rng_() % 2500);
        }
      }
    }
    if (victim && now >= kill_at && victim->child.running()) {
      if (auto it = load_of.find(victim->id); it != load_of.end())
        it->second->expect_failures();
      victim->child.kill9();
      ++kills_;
      call_cut = call_cut || (call.valid() && victim->id == call_node);
      json_line{}.str("bench", "cluster_soak").str("case", "kill").str("node", victim->id).integer("round", round_)
        .boolean("during_drain", call.valid()).print();
      if (!restart_after_kill(*victim))
        break;
      victim = nullptr;
    }
    if (call.valid() && call.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      record_moves(call_what, call.get(), seconds_since(call_start), std::exchange(call_cut, false));
      // Then even the map out again (after a crash the drain may have stopped half-way).
      if (!await_all_up(seconds(60)))
        break;
      auto& any = random_running();
      call_what = call_what.rfind("rebalance", 0) == 0 ? "" : "rebalance via " + any.id;
      call_node = any.id;
      call_start = clock_type::now();
      call = call_what.empty() ? std::future<std::string>{} : operator_call(any, "/cluster/rebalance");
    }
    if (clock_type::now() - last_line >= o_.interval) {
      interval_line(seconds_since(last_line), last_acked);
      last_line = clock_type::now();
    }
  }
  for (auto& l : loads)
    l->stop();
  stopped_at_ = clock_type::now();
  return !fatal_;
}

// After a round: links up, one map everywhere, every acknowledged command on its owner.
bool cluster_soak::check_round() {
  auto t0 = clock_type::now();
  if (!await_all_up(seconds(90)))
    return false;
  auto cs = clients(o_.request_timeout);
  std::string error;
  cluster_view view;
  // Maps spread after each move, and a move cut by a kill ends when the restarted node
  // hears its old owner's map: one map everywhere within map_settle, or a violation.
  std::vector<std::string> differ;
  auto maps_t0 = clock_type::now();
  for (auto deadline = maps_t0 + map_settle;;) {
    std::map<std::string, cluster_view> views;
    for (auto& [id, c] : cs) {
      views[id] = read_view(c, error);
      if (!error.empty()) {
        violation("hang", "node '" + id + "': " + error);
        fatal_ = true;
        return false;
      }
    }
    if (views.empty())
      break;
    view = views.begin()->second;
    differ = map_differences(views);
    if (differ.empty() || clock_type::now() >= deadline)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  auto maps_s = seconds_since(maps_t0);
  for (const auto& d : differ)
    violation("maps", d);
  std::set<std::string> owners(view.owners.begin(), view.owners.end());
  auto acks = ledger_.take_unchecked();
  std::vector<std::string> messages;
  auto lost = find_lost_on_owners(cs, view, acks, messages, error);
  checked_ += acks.size();
  lost_ += lost;
  for (const auto& m : messages)
    violation("lost", m);
  if (!error.empty()) {
    violation("hang", "checking acks: " + error);
    fatal_ = true;
  }
  json_line{}.str("bench", "cluster_soak").str("case", "check").integer("round", round_)
    .integer("acks_checked", static_cast<int64_t>(acks.size())).integer("lost", static_cast<int64_t>(lost))
    .integer("owners", static_cast<int64_t>(owners.size())).num("maps_settle_s", maps_s, 2)
    .num("check_s", seconds_since(t0), 2).print();
  return !fatal_;
}

// The end: read models converge on every node; every node stops cleanly and verifies.
bool cluster_soak::finish() {
  auto t0 = clock_type::now();
  std::vector<std::string> diff;
  for (int i = 0; i < 180 && !fatal_; ++i) {
    auto cs = clients(o_.request_timeout);
    diff = read_model_differences(cs, ledger_.skus());
    if (diff.empty())
      break;
    std::this_thread::sleep_for(seconds(1));
  }
  for (const auto& d : diff)
    violation("converge", d);
  auto converge_s = seconds_since(t0);
  auto census = orders_decided();
  bool verified = true;
  for (auto& n : nodes_) {
    if (!n->child.running())
      continue;
    auto s = n->child.terminate(seconds(60));
    if (!s.clean()) {
      violation("crash", "stop of '" + n->id + "': " + s.describe());
      n->child.kill9();
    }
    auto out = work_ / ("verify-" + n->id + ".txt");
    auto v = run_bounded({SOAK_ANNAL_BINARY, "--data", (work_ / ("data-" + n->id)).string(), "--json", "verify"},
                         out, o_.verify_timeout);
    if (!v.clean()) {
      verified = false;
      violation("verify", "annal verify of '" + n->id + "' ended with " + v.describe() + " (" + out.string() + ")");
    }
  }
  json_line{}.str("bench", "cluster_soak").str("case", "final").boolean("converged", diff.empty())
    .num("converge_s", converge_s, 1).boolean("orders_decided", census).boolean("verify_ok", verified).print();
  return diff.empty() && census && verified;
}

// Once the payment timeout passed since the workload stopped (and a margin for the
// timers' tick and the cancellation's fulfilment), every acknowledged order is decided and
// none is left confirmed: each confirmation's timer fired on its order's owner.
bool cluster_soak::orders_decided() {
  if (fatal_)
    return false;
  std::this_thread::sleep_until(stopped_at_ + o_.payment_timeout + seconds(15));
  auto ids = ledger_.acked_orders();
  auto cs = clients(o_.request_timeout);
  if (cs.empty())
    return false;
  auto t0 = clock_type::now();
  auto census = census_orders(cs.begin()->second, ids);
  for (const auto& u : census.undecided)
    violation("undecided", "order " + u + " after the payment timeout");
  json_line line;
  line.str("bench", "cluster_soak").str("case", "orders").integer("orders", static_cast<int64_t>(ids.size()));
  for (const auto& [status, n] : census.by_status)
    line.integer(status, static_cast<int64_t>(n));
  line.num("check_s", seconds_since(t0), 1).print();
  return census.undecided.empty() && census.by_status.count("error") == 0;
}

int cluster_soak::run() {
  if (o_.seed == 0)
    o_.seed = std::random_device{}() % 1000000 + 1;
  rng_.seed(o_.seed);
  work_ = o_.dir.empty() ? std::filesystem::temp_directory_path() / ("annal-cluster-soak-" + std::to_string(::getpid()))
                         : std::filesystem::absolute(o_.dir);
  std::error_code ec;
  std::filesystem::create_directories(work_, ec);
  for (const char* id : {"a", "b", "c", "d"}) {
    if (std::string{id} == "d" && !o_.join)
      break;
    auto n = std::make_unique<node_slot>();
    n->id = id;
    n->http_port = annal::testing::free_port();
    n->cluster_port = annal::testing::free_port();
    n->joins = n->id == "d";
    n->config = n->joins ? "join.json" : "cluster.json";
    nodes_.push_back(std::move(n));
  }
  write_configs();
  annal::bench::env_line(o_.durability).str("bench", "cluster_soak").integer("seed", static_cast<int64_t>(o_.seed))
    .integer("founders", 3).boolean("join", o_.join).integer("clients_per_node", o_.clients)
    .integer("map_initial_mb", static_cast<int64_t>(o_.map_initial_mb)).str("dir", work_.string()).print();
  std::cerr << "cluster_soak: seed " << o_.seed << ", work folder " << work_.string() << "\n";
  started_ = clock_type::now();
  bool ok = true;
  for (auto& n : nodes_)
    if (!n->joins)
      ok = ok && start(*n, "first");
  ok = ok && await_all_up(seconds(60));
  std::string why;
  if (ok && !seed_catalog(nodes_[0]->http_port, ledger_, 30, o_.request_timeout, why)) {
    violation("seed", why);
    ok = false;
  }
  while (ok && !fatal_ && !interrupted && round_ < o_.max_rounds && clock_type::now() - started_ < o_.duration)
    ok = run_round() && check_round();
  bool clean = !fatal_ && !interrupted && finish() && violations_.empty();
  std::string kinds;
  for (const auto& v : violations_)
    if (auto k = v.substr(0, v.find(':')); kinds.find(k) == std::string::npos)
      kinds += (kinds.empty() ? "" : ",") + k;
  json_line sum;
  sum.str("bench", "cluster_soak").str("case", "summary")
    .str("result", clean ? "ok" : interrupted ? "interrupted" : "fail")
    .str("violations", kinds).num("elapsed_s", seconds_since(started_), 1).integer("rounds", round_)
    .integer("kills", kills_).integer("moves", moves_).integer("operator_failures", operator_failures_)
    .integer("calls_cut_by_kill", calls_cut_)
    .integer("acked", static_cast<int64_t>(ledger_.acked.load())).integer("acks_checked", static_cast<int64_t>(checked_))
    .integer("lost", static_cast<int64_t>(lost_)).integer("failed_5xx", static_cast<int64_t>(ledger_.failed.load()));
  for (auto& n : nodes_)
    sum.num("max_journal_mib_" + n->id, n->max_journal_mib, 1).num("max_map_mib_" + n->id, n->max_map_mib, 0);
  sum.str("seed", std::to_string(o_.seed)).print();
  for (auto& n : nodes_)
    if (n->child.running())
      n->child.kill9();
  if (clean && !o_.keep)
    std::filesystem::remove_all(work_, ec);
  return clean ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  return cluster_soak{parse(argc, argv)}.run();
}
