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
  return caf::error{static_cast<uint8_t>(e.code), error_category(), caf::make_message(e.message)};
}

error from_caf_error(const caf::error& e) {
  if (e.category() == error_category()) {
    std::string msg;
    if (e.context().match_elements<std::string>())
      msg = e.context().get_as<std::string>(0);
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
    if (ctx.match_elements<std::string>())
      out += ": " + ctx.get_as<std::string>(0);
    return out;
  });
}

} // namespace annal
