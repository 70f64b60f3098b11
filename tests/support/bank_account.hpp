// A small aggregate used across the actor and runtime tests: a bank account.
#pragma once

#include <cereal/types/string.hpp>
#include <cereal/types/variant.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

#include "annal/decision.hpp"

namespace bank {

struct opened {
  static constexpr std::string_view event_type = "bank.opened";
  std::string owner;
  template <class Archive>
  void serialize(Archive& ar) { ar(CEREAL_NVP(owner)); }
};

struct deposited {
  static constexpr std::string_view event_type = "bank.deposited";
  int64_t amount = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(CEREAL_NVP(amount)); }
};

struct withdrawn {
  static constexpr std::string_view event_type = "bank.withdrawn";
  int64_t amount = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(CEREAL_NVP(amount)); }
};

/// Poison: evolve throws on it (to test that a throwing evolve is contained).
struct poisoned {
  static constexpr std::string_view event_type = "bank.poisoned";
  template <class Archive>
  void serialize(Archive&) {}
};

// Commands are cereal-serializable so that process managers can schedule them.
struct open {
  std::string owner;
  template <class Archive>
  void serialize(Archive& ar) { ar(owner); }
};
struct deposit {
  int64_t amount = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(amount); }
};
struct withdraw {
  int64_t amount = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(amount); }
};
struct touch {   // decides no event
  template <class Archive>
  void serialize(Archive&) {}
};
struct explode { // decide throws
  template <class Archive>
  void serialize(Archive&) {}
};
struct poison {  // decides `poisoned`, whose evolve throws
  template <class Archive>
  void serialize(Archive&) {}
};

struct state {
  bool is_open = false;
  std::string owner;
  int64_t balance = 0;
  uint64_t deposits = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(is_open, owner, balance, deposits); }
  friend bool operator==(const state& a, const state& b) {
    return a.is_open == b.is_open && a.owner == b.owner && a.balance == b.balance
           && a.deposits == b.deposits;
  }
};

struct account {
  using state = bank::state;
  using command = std::variant<open, deposit, withdraw, touch, explode, poison>;
  using event = std::variant<opened, deposited, withdrawn, poisoned>;
  static constexpr std::string_view category = "account";

  static annal::decision<event> decide(const state& s, const command& c) {
    struct visitor {
      const state& s;
      annal::decision<event> operator()(const open& o) const {
        if (s.is_open)
          return annal::reject("already open");
        return opened{o.owner};
      }
      annal::decision<event> operator()(const deposit& d) const {
        if (!s.is_open)
          return annal::reject("account not open");
        if (d.amount <= 0)
          return annal::reject("amount must be positive");
        return deposited{d.amount};
      }
      annal::decision<event> operator()(const withdraw& w) const {
        if (w.amount > s.balance)
          return annal::reject("insufficient funds");
        return withdrawn{w.amount};
      }
      annal::decision<event> operator()(const touch&) const { return {}; }
      annal::decision<event> operator()(const explode&) const {
        throw std::runtime_error("boom");
      }
      annal::decision<event> operator()(const poison&) const { return poisoned{}; }
    };
    return std::visit(visitor{s}, c);
  }

  static state evolve(state s, const event& e) {
    struct visitor {
      state& s;
      void operator()(const opened& o) const {
        s.is_open = true;
        s.owner = o.owner;
      }
      void operator()(const deposited& d) const {
        s.balance += d.amount;
        ++s.deposits;
      }
      void operator()(const withdrawn& w) const { s.balance -= w.amount; }
      void operator()(const poisoned&) const { throw std::runtime_error("poisoned event"); }
    };
    std::visit(visitor{s}, e);
    return s;
  }
};

} // namespace bank
