#include "annal/caf_error.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace annal {

caf::atom_value error_category() noexcept {
  return caf::atom("annal");
}

caf::error to_caf_error(const error& e) {
  if (e.conflict) { // the versions travel as numbers: a caller decides on them, not on text
    auto kind = static_cast<uint8_t>(e.conflict->expected.which());
    return caf::error{static_cast<uint8_t>(e.code), error_category(),
                      caf::make_message(e.message, kind, e.conflict->expected.version(),
                                        e.conflict->actual)};
  }
  return caf::error{static_cast<uint8_t>(e.code), error_category(), caf::make_message(e.message)};
}

namespace {

expected_version expectation_of(uint8_t kind, stream_version v) {
  switch (static_cast<expected_version::kind>(kind)) {
    case expected_version::kind::no_stream: return expected_version::no_stream();
    case expected_version::kind::stream_exists: return expected_version::stream_exists();
    case expected_version::kind::exact: return expected_version::exact(v);
    case expected_version::kind::any: break;
  }
  return expected_version::any();
}

} // namespace

error from_caf_error(const caf::error& e) {
  if (e.category() == error_category()) {
    const auto& ctx = e.context();
    if (ctx.match_elements<std::string, uint8_t, uint64_t, uint64_t>()) {
      auto out = make_error(static_cast<errc>(e.code()), ctx.get_as<std::string>(0));
      out.conflict = version_conflict{expectation_of(ctx.get_as<uint8_t>(1), ctx.get_as<uint64_t>(2)),
                                      ctx.get_as<uint64_t>(3)};
      return out;
    }
    std::string msg;
    if (ctx.match_elements<std::string>())
      msg = ctx.get_as<std::string>(0);
    return make_error(static_cast<errc>(e.code()), std::move(msg));
  }
  if (e.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(e.code())) {
      case caf::sec::request_timeout:
        return make_error(errc::timeout, "no reply before the deadline");
      case caf::sec::request_receiver_down:
      case caf::sec::invalid_argument:
        return make_error(errc::unavailable, "the receiver is gone");
      default:
        break;
    }
  }
  return make_error(errc::io_error, "actor error " + caf::to_string(e));
}

void register_error_category(caf::actor_system_config& cfg) {
  cfg.add_error_category(error_category(), [](uint8_t code, caf::atom_value, const caf::message& ctx) {
    std::string out{to_string(static_cast<errc>(code))};
    if (ctx.size() > 0 && ctx.match_element<std::string>(0))
      out += ": " + ctx.get_as<std::string>(0);
    return out;
  });
}

} // namespace annal
