#include "verify_report.hpp"

namespace annal::cli {

void verify_report::add(problem p) {
  ++problems_;
  record r;
  if (out_.json())
    r.text("kind", "problem");
  r.text("check", p.check);
  if (p.stream.empty())
    r.null("stream");
  else
    r.text("stream", p.stream);
  if (p.version == 0)
    r.null("version");
  else
    r.number("version", p.version);
  if (p.position == 0)
    r.null("position");
  else
    r.number("position", p.position);
  r.text("message", p.message);
  out_.row(r);
}

void verify_report::unknown(std::string_view type, uint32_t schema_version, bool type_known) {
  ++counts.unknown_events;
  std::string key{type};
  if (type_known)
    key += " v" + std::to_string(schema_version);
  ++unknown_[key];
}

void verify_report::finish() {
  out_.end_table();
  if (!unknown_.empty()) {
    out_.heading("event types this build does not know (not decoded, not a problem):");
    for (const auto& [type, n] : unknown_) {
      record r;
      if (out_.json())
        r.text("kind", "unknown_type");
      out_.row(r.text("type", type).number("events", n));
    }
    out_.end_table();
  }
  const auto& c = counts;
  record s;
  if (out_.json())
    s.text("kind", "summary");
  s.number("events", c.events)
    .number("payloads_decoded", c.payloads_decoded)
    .number("unknown_events", c.unknown_events)
    .number("index_entries", c.index_entries)
    .number("indexed_events", c.indexed_events)
    .number("tail_events", c.tail_events)
    .number("shard_gaps", c.shard_gaps)
    .number("streams", c.streams)
    .number("snapshots", c.snapshots)
    .number("snapshots_replayed", c.snapshots_sampled - c.snapshots_not_replayable)
    .number("snapshots_matched", c.snapshots_matched)
    .number("snapshots_not_replayable", c.snapshots_not_replayable)
    .number("snapshots_unknown_type", c.snapshots_unknown_type)
    .number("journal_pages", c.journal_pages)
    .number("read_model_pages", c.read_model_pages)
    .number("problems", problems_)
    .boolean("ok", problems_ == 0);
  if (!out_.json())
    out_.heading("summary:");
  out_.object(s);
  if (!out_.json())
    out_.heading(problems_ == 0 ? "OK: no problem found" :
                 "FAILED: " + std::to_string(problems_) + " problem(s) found");
}

} // namespace annal::cli
