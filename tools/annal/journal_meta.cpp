#include "journal_meta.hpp"

#include "annal/layout/byte_order.hpp"
#include "annal/layout/stream_key.hpp"
#include "annal/layout/journal_format.hpp"

namespace annal::cli {

uint32_t supported_format_version() noexcept {
  return layout::journal_format_version();
}

result<journal_meta> read_journal_meta(const raw_read_txn& t) {
  auto dbi = t.table("meta");
  if (!dbi)
    return std::move(dbi).error();
  journal_meta m;
  auto note_malformed = [&](const char* key) {
    if (!m.malformed.empty())
      m.malformed += ", ";
    m.malformed += key;
  };
  auto format = t.get(*dbi, "format_version");
  if (!format)
    return std::move(format).error();
  if (format->found && format->value.size() == 4) {
    m.has_format_version = true;
    m.format_version = layout::load_le<uint32_t>(format->value.data());
  } else if (format->found) {
    note_malformed("format_version");
  }
  auto node = t.get(*dbi, "node_id");
  if (!node)
    return std::move(node).error();
  if (node->found) {
    m.has_node_id = true;
    m.node_id.assign(node->value);
  }
  auto last = t.get(*dbi, "last_position");
  if (!last)
    return std::move(last).error();
  if (last->found && last->value.size() == 8) {
    m.has_last_position = true;
    m.last_position = layout::load_be64(last->value.data());
  } else if (last->found) {
    note_malformed("last_position");
  }
  return m;
}

result<journal_meta> read_journal_meta(event_store& store) {
  auto t = raw_read_txn::begin(store.native_handle());
  if (!t)
    return std::move(t).error();
  return read_journal_meta(*t);
}

} // namespace annal::cli
