// annal streams: stream ids with their head versions, in id order.
#include <CLI/CLI.hpp>

#include <memory>

#include "command.hpp"
#include "data_folder.hpp"

namespace annal::cli {

namespace {

struct streams_options {
  std::string prefix;
  std::string after;
  uint64_t limit = 100;
};

outcome<exit_code> run(context& ctx, const streams_options& o) {
  auto journal = open_journal(ctx.data);
  if (!journal)
    return journal.error();
  auto& store = **journal;
  uint64_t left = o.limit == 0 ? std::numeric_limits<uint64_t>::max() : o.limit;
  std::string after = o.after;
  while (left > 0) {
    auto page_size = std::min<uint64_t>(left, 4096);
    auto page = store.list_streams(o.prefix, after, page_size);
    if (!page)
      return store_failure(page.error());
    for (const auto& s : *page)
      ctx.out.row(record{}
                    .text("stream", s.stream_id)
                    .number("head", s.head)
                    .number("last_position", s.last_position)
                    .number("truncated_through", s.truncated_through)
                    .boolean("deleted", s.deleted));
    left -= page->size();
    if (page->size() < page_size)
      break;
    after = page->back().stream_id;
  }
  return exit_code::ok;
}

} // namespace

void add_streams_command(CLI::App& app, runner& chosen) {
  auto o = std::make_shared<streams_options>();
  auto* cmd = app.add_subcommand("streams", "stream ids with their head version, in id order");
  cmd->add_option("--prefix", o->prefix, "only ids starting with this (e.g. order-)");
  cmd->add_option("--after", o->after, "start after this id (to page through)");
  cmd->add_option("--limit", o->limit, "at most this many (0: all)")->capture_default_str();
  cmd->callback([&chosen, o] { chosen = [o](context& ctx) { return run(ctx, *o); }; });
}

} // namespace annal::cli
