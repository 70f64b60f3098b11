// annal events STREAM: the events of one stream, oldest first, with their metadata.
#include <CLI/CLI.hpp>

#include <memory>
#include <vector>

#include "command.hpp"
#include "data_folder.hpp"
#include "event_record.hpp"

namespace annal::cli {

namespace {

struct events_options {
  std::string stream;
  stream_version from = 1;
  uint64_t limit = 100;
};

outcome<exit_code> run(context& ctx, const events_options& o) {
  auto journal = open_journal(ctx.data);
  if (!journal)
    return journal.error();
  auto& store = **journal;
  auto head = store.stream_head(o.stream);
  if (!head)
    return head.error().code == errc::bad_request ? failure{exit_code::usage, head.error().message}
                                                  : store_failure(head.error());
  if (head->head == 0)
    return operation_failure("no stream '" + o.stream + "'");
  if (head->deleted)
    return operation_failure("stream '" + o.stream + "' was deleted");
  // One read at a time, in chunks: no read transaction stays open long.
  constexpr uint64_t chunk = 1024;
  uint64_t left = o.limit == 0 ? std::numeric_limits<uint64_t>::max() : o.limit;
  stream_version next = std::max<stream_version>(o.from, 1);
  while (left > 0) {
    stream_range range{next, std::numeric_limits<stream_version>::max(), std::min(left, chunk)};
    stream_version last = 0;
    // Rendered inside the read, printed after it: a slow reader of our stdout must not
    // keep a journal transaction open (it would pin the node's old pages).
    std::vector<record> rows;
    auto n = store.read_stream(o.stream, range, [&](const event_view& e) {
      rows.push_back(event_record(e, ctx.catalog.registry()));
      last = e.version;
      return true;
    });
    if (!n)
      return store_failure(n.error());
    for (const auto& r : rows)
      ctx.out.row(r);
    if (!ctx.out.good())
      break;
    left -= *n;
    if (*n < range.max_count)
      break;
    next = last + 1;
  }
  return exit_code::ok;
}

} // namespace

void add_events_command(CLI::App& app, runner& chosen) {
  auto o = std::make_shared<events_options>();
  auto* cmd = app.add_subcommand("events", "the events of one stream with their metadata");
  cmd->add_option("stream", o->stream, "stream id, e.g. order-42")->required();
  cmd->add_option("--from", o->from, "first version to show")->capture_default_str();
  cmd->add_option("--limit", o->limit, "at most this many (0: all)")->capture_default_str();
  cmd->callback([&chosen, o] { chosen = [o](context& ctx) { return run(ctx, *o); }; });
}

} // namespace annal::cli
