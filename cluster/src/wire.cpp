#include "wire.hpp"

namespace annal::cluster::detail {

wire_reply to_wire(const command_result& r) {
  if (!r)
    return {static_cast<uint8_t>(r.error().code), r.error().message, 0, 0, false};
  return {0, std::string{}, r->version, r->position, r->duplicate};
}

command_result from_wire(const wire_reply& w) {
  auto code = std::get<0>(w);
  if (code != 0) {
    if (code > static_cast<uint8_t>(errc::overloaded))
      return make_error(errc::io_error, "the owner answered an unknown error code "
                                          + std::to_string(code) + ": " + std::get<1>(w));
    return make_error(static_cast<errc>(code), std::get<1>(w));
  }
  command_reply reply;
  reply.version = std::get<2>(w);
  reply.position = std::get<3>(w);
  reply.duplicate = std::get<4>(w);
  return reply;
}

} // namespace annal::cluster::detail
