#include "shop/node/metrics.hpp"

#include <array>
#include <sstream>

#include "annal/read_model_store.hpp"
#include "annal/runtime.hpp"

namespace shop::node {

namespace {

// One histogram series in the exposition format: a cumulative count per upper bound (in
// seconds), then +Inf, sum and count. `labels` is "" or `key="value"`.
template <class Bounds, class Cumulative>
void render_series(std::ostringstream& out, const char* name, const std::string& labels,
                   const Bounds& bounds_s, const Cumulative& cumulative, uint64_t count, double sum_s) {
  auto le = labels.empty() ? std::string{"{le=\""} : "{" + labels + ",le=\"";
  for (std::size_t i = 0; i < bounds_s.size(); ++i)
    out << name << "_bucket" << le << bounds_s[i] << "\"} " << cumulative[i] << "\n";
  auto plain = labels.empty() ? std::string{} : "{" + labels + "}";
  out << name << "_bucket" << le << "+Inf\"} " << count << "\n"
      << name << "_sum" << plain << " " << sum_s << "\n"
      << name << "_count" << plain << " " << count << "\n";
}

// A duration_histogram as one unlabelled histogram family.
void render_durations(std::ostringstream& out, const char* name, const char* help,
                      const annal::duration_histogram::counts& c) {
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " histogram\n";
  const auto& bounds = annal::duration_histogram::bounds_us;
  std::array<double, annal::duration_histogram::bounds_us.size()> bounds_s{};
  std::array<uint64_t, annal::duration_histogram::bounds_us.size()> cumulative{};
  uint64_t total = 0;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    bounds_s[i] = static_cast<double>(bounds[i]) / 1e6;
    cumulative[i] = total += c.buckets[i];
  }
  total += c.buckets.back(); // +Inf and _count from the buckets: equal even while records race
  render_series(out, name, "", bounds_s, cumulative, total, std::chrono::duration<double>(c.sum).count());
}

} // namespace

void node_metrics::command_done(const std::string& command, const std::string& outcome,
                                std::chrono::nanoseconds latency) {
  double seconds = std::chrono::duration<double>(latency).count();
  std::lock_guard<std::mutex> guard{mx_};
  ++commands_[{command, outcome}];
  auto& h = latency_[command];
  for (std::size_t i = 0; i < latency_buckets.size(); ++i)
    if (seconds <= latency_buckets[i])
      ++h.buckets[i];
  ++h.count;
  h.sum += seconds;
}

uint64_t node_metrics::commands_total() const {
  std::lock_guard<std::mutex> guard{mx_};
  uint64_t n = 0;
  for (const auto& [key, count] : commands_)
    n += count;
  return n;
}

void node_metrics::response_sent(int status) {
  std::lock_guard<std::mutex> guard{mx_};
  ++responses_[status];
}

std::string node_metrics::render(annal::runtime& rt) const {
  std::ostringstream out;
  {
    std::lock_guard<std::mutex> guard{mx_};
    out << "# HELP shop_commands_total Commands handled, by kind and outcome.\n"
           "# TYPE shop_commands_total counter\n";
    for (const auto& [key, n] : commands_)
      out << "shop_commands_total{command=\"" << key.first << "\",outcome=\"" << key.second
          << "\"} " << n << "\n";
    out << "# HELP shop_command_duration_seconds Latency of commands, from the request to "
           "the durable outcome.\n"
           "# TYPE shop_command_duration_seconds histogram\n";
    for (const auto& [command, h] : latency_)
      render_series(out, "shop_command_duration_seconds", "command=\"" + command + "\"", latency_buckets,
                    h.buckets, h.count, h.sum);
    out << "# HELP shop_http_responses_total HTTP responses, by status.\n"
           "# TYPE shop_http_responses_total counter\n";
    for (const auto& [status, n] : responses_)
      out << "shop_http_responses_total{status=\"" << status << "\"} " << n << "\n";
  }
  const auto& m = rt.metrics();
  out << "# HELP annal_events_written_total Events committed to the journal.\n"
         "# TYPE annal_events_written_total counter\n"
      << "annal_events_written_total " << m.events_written.load() << "\n"
      << "# HELP annal_fsync_batches_total Group commits (one write transaction and one fsync "
         "each).\n"
         "# TYPE annal_fsync_batches_total counter\n"
      << "annal_fsync_batches_total " << m.commits.load() << "\n"
      << "# HELP annal_appends_total Appends by outcome.\n"
         "# TYPE annal_appends_total counter\n"
      << "annal_appends_total{outcome=\"committed\"} " << m.appends_committed.load() << "\n"
      << "annal_appends_total{outcome=\"failed\"} " << m.appends_failed.load() << "\n"
      << "# HELP annal_snapshots_written_total Snapshots written.\n"
         "# TYPE annal_snapshots_written_total counter\n"
      << "annal_snapshots_written_total " << m.snapshots_written.load() << "\n";
  render_durations(out, "annal_journal_commit_seconds",
                   "Duration of the journal's group commits (write transaction and sync).",
                   m.commit_durations.read());
  render_durations(out, "annal_read_model_commit_seconds",
                   "Duration of the read models' shared commits (write transaction and sync).",
                   rt.read_models().commit_durations());
  auto head = rt.store().last_position();
  out << "# HELP annal_journal_position Global position of the newest event.\n"
         "# TYPE annal_journal_position gauge\n"
      << "annal_journal_position " << (head ? *head : 0) << "\n";
  auto infos = rt.projections();
  out << "# HELP annal_projection_position Global position each projection reflects.\n"
         "# TYPE annal_projection_position gauge\n";
  for (const auto& p : infos)
    out << "annal_projection_position{projection=\"" << p.name << "\"} " << p.position << "\n";
  out << "# HELP annal_projection_lag_events Events committed but not yet applied.\n"
         "# TYPE annal_projection_lag_events gauge\n";
  for (const auto& p : infos)
    out << "annal_projection_lag_events{projection=\"" << p.name << "\"} " << p.lag_events << "\n";
  out << "# HELP annal_projection_lag_seconds Age of the oldest event not yet applied.\n"
         "# TYPE annal_projection_lag_seconds gauge\n";
  for (const auto& p : infos)
    out << "annal_projection_lag_seconds{projection=\"" << p.name << "\"} " << p.lag_ms / 1000.0
        << "\n";
  out << "# HELP annal_projection_faulted 1 while a projection is stopped at a failing event.\n"
         "# TYPE annal_projection_faulted gauge\n";
  for (const auto& p : infos)
    out << "annal_projection_faulted{projection=\"" << p.name << "\"} "
        << (p.state == annal::projection_state::faulted ? 1 : 0) << "\n";
  return out.str();
}

} // namespace shop::node
