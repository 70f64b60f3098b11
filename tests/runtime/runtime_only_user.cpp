// Includes runtime.hpp and nothing of CAF (checked by runtime_header_includes_no_caf).
#include "runtime_only_user.hpp"

#include <future>

namespace tally {

annal::result<long> count_and_load(annal::runtime& rt, const std::string& id, long n) {
  auto first = rt.send<counter>(id, count{n}).get();
  if (!first)
    return std::move(first).error();
  std::promise<annal::command_result> p;
  rt.send<counter>(id, count{n}, {}, [&p](annal::command_result r) { p.set_value(std::move(r)); });
  auto second = p.get_future().get();
  if (!second)
    return std::move(second).error();
  auto view = rt.load<counter>(id);
  if (!view)
    return std::move(view).error();
  return view->state.total;
}

} // namespace tally
