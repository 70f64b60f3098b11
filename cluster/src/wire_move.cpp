// A shard move's report on the wire (the answer to a give request).
#include "wire.hpp"

namespace annal::cluster::detail {

wire_move_reply to_wire(const result<move_report>& r) {
  if (!r)
    return {static_cast<uint8_t>(r.error().code), r.error().message, {}, {}, 0, 0, 0, 0, 0, false};
  return {0, {}, r->from, r->to, r->epoch, r->head, static_cast<int64_t>(r->pause.count()),
          static_cast<int64_t>(r->total.count()), r->process_rows, r->process_state_moved};
}

result<move_report> move_from_wire(uint16_t shard, const wire_move_reply& w) {
  if (auto code = std::get<0>(w); code != 0)
    return code_error(code, std::get<1>(w));
  return move_report{shard,
                     std::get<2>(w),
                     std::get<3>(w),
                     std::get<4>(w),
                     std::get<5>(w),
                     std::chrono::microseconds{std::get<6>(w)},
                     std::chrono::microseconds{std::get<7>(w)},
                     std::get<8>(w),
                     std::get<9>(w)};
}

} // namespace annal::cluster::detail
