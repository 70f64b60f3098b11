// Helpers of the read-side tests (tests/read_side): waiting on conditions, big-endian keys,
// two small tagged aggregates (ledger, note) beside bank::account, pre-filling a journal
// directly, and folding the journal read straight from the store.
#pragma once

#include <cereal/types/string.hpp>
#include <cereal/types/variant.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "annal/decision.hpp"
#include "annal/event_store.hpp"
#include "annal/projection.hpp"
#include "annal/serialization.hpp"

namespace annal::test {

using namespace std::chrono_literals;

/// Polls `pred` every `step` until it holds (true) or `timeout` passed (false, after one
/// last look). For conditions that have no notification of their own.
template <class Pred>
bool wait_until(Pred&& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step = std::chrono::milliseconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred())
      return true;
    std::this_thread::sleep_for(step);
  }
  return pred();
}

/// Waits until every projection of `rt` (an annal::runtime) reports live, for tests whose
/// assertions are about live delivery rather than catch-up.
template <class Runtime>
bool all_live(Runtime& rt, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  return wait_until(
    [&] {
      for (const auto& info : rt.projections())
        if (info.state != projection_state::live)
          return false;
      return true;
    },
    timeout);
}

/// Eight big-endian bytes of `x` (keys that sort like the numbers).
inline std::string be64(uint64_t x) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i, x >>= 8)
    s[static_cast<std::size_t>(i)] = static_cast<char>(x & 0xff);
  return s;
}

inline uint64_t from_be64(std::string_view s) {
  uint64_t x = 0;
  for (std::size_t i = 0; i < 8 && i < s.size(); ++i)
    x = (x << 8) | static_cast<unsigned char>(s[i]);
  return x;
}

/// A u64 stored as decimal text (read-model values of the tests).
inline uint64_t to_u64(std::string_view s) {
  return s.empty() ? 0 : std::stoull(std::string{s});
}

/// A journal event reduced to what the read-side tests compare.
struct logged {
  global_position position = 0;
  std::string stream_id;
  std::string type;
  std::string payload;
};

/// Every event of the journal, read directly from the store, in position order.
inline std::vector<logged> read_journal(event_store& store) {
  std::vector<logged> out;
  global_position after = 0;
  for (;;) {
    uint64_t n = 0;
    auto r = store.read_all_batch(after, 8192, [&](const std::vector<event_view>& evs) -> status {
      for (const auto& e : evs)
        out.push_back(logged{e.position, std::string{e.stream_id}, std::string{e.type},
                             std::string{e.payload}});
      n = evs.size();
      if (!evs.empty())
        after = evs.back().position;
      return {};
    });
    if (!r || n == 0)
      break;
  }
  return out;
}

/// Positions of the events of `log` for which `pred(stream_id, type)` holds.
template <class Pred>
std::vector<global_position> positions_where(const std::vector<logged>& log, Pred&& pred) {
  std::vector<global_position> out;
  for (const auto& e : log)
    if (pred(e.stream_id, e.type))
      out.push_back(e.position);
  return out;
}

/// Category of a stream id ("ledger-7" -> "ledger"), computed here independently of the
/// library's event_filter.
inline std::string_view category_part(std::string_view stream_id) {
  auto dash = stream_id.find('-');
  return dash == std::string_view::npos ? stream_id : stream_id.substr(0, dash);
}

/// Appends `events` of one type to `stream` directly through the store (bypassing the
/// runtime: catch-up material for projections). Returns false on error.
template <class Event>
bool append_direct(event_store& store, const std::string& stream, const std::vector<Event>& events) {
  std::vector<new_event> batch;
  batch.reserve(events.size());
  for (const auto& e : events) {
    auto bytes = to_bytes(e);
    if (!bytes)
      return false;
    batch.push_back(new_event{std::string{Event::event_type}, 1, std::move(*bytes), {}, 0});
  }
  return static_cast<bool>(store.append(stream, expected_version::any(), std::move(batch)));
}

} // namespace annal::test

// Two small aggregates whose definitions declare tags (see event_filter.hpp): a ledger
// tagged "finance" and "audited", and a note tagged "audited" only.
namespace rs {

struct credited {
  static constexpr std::string_view event_type = "ledger.credited";
  int64_t amount = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(amount); }
};

struct debited {
  static constexpr std::string_view event_type = "ledger.debited";
  int64_t amount = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(amount); }
};

struct credit {
  int64_t amount = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(amount); }
};

struct debit {
  int64_t amount = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(amount); }
};

struct ledger_state {
  int64_t balance = 0;
  uint64_t entries = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(balance, entries); }
};

struct ledger {
  using state = ledger_state;
  using command = std::variant<credit, debit>;
  using event = std::variant<credited, debited>;
  static constexpr std::string_view category = "ledger";
  static std::vector<std::string> tags() { return {"finance", "audited"}; }

  static annal::decision<event> decide(const state&, const command& c) {
    if (auto cr = std::get_if<credit>(&c))
      return credited{cr->amount};
    return debited{std::get<debit>(c).amount};
  }
  static void evolve(state& s, const event& e) {
    if (auto cr = std::get_if<credited>(&e))
      s.balance += cr->amount;
    else
      s.balance -= std::get<debited>(e).amount;
    ++s.entries;
  }
};

struct noted {
  static constexpr std::string_view event_type = "note.added";
  std::string text;
  template <class Archive>
  void serialize(Archive& ar) { ar(text); }
};

struct add_note {
  std::string text;
  template <class Archive>
  void serialize(Archive& ar) { ar(text); }
};

struct note_state {
  uint64_t notes = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(notes); }
};

struct note {
  using state = note_state;
  using command = add_note;
  using event = noted;
  static constexpr std::string_view category = "note";
  static std::vector<std::string> tags() { return {"audited"}; }
  static annal::decision<event> decide(const state&, const command& c) { return noted{c.text}; }
  static void evolve(state& s, const event&) { ++s.notes; }
};

} // namespace rs
