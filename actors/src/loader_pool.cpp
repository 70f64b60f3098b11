#include "annal/loader_pool.hpp"

#include <caf/all.hpp>

#include "annal/detail/atoms.hpp"
#include "annal/detail/messages.hpp"
#include "annal/detail/service_spawn.hpp"
#include "annal/log.hpp"

namespace annal {

namespace {

caf::behavior loader_worker(caf::event_based_actor*) {
  return {
    [](detail::job_atom, detail::loader_job& job) {
      try {
        job.run();
      } catch (const std::exception& e) {
        log(log_level::error, std::string{"loader job threw: "} + e.what());
      }
    },
  };
}

} // namespace

loader_pool::loader_pool(caf::actor_system& sys, std::size_t permits) {
  for (std::size_t i = 0; i < std::max<std::size_t>(permits, 1); ++i)
    workers_.push_back(detail::spawn_service(sys, loader_worker));
}

loader_pool::~loader_pool() {
  stop();
}

void loader_pool::submit(std::function<void()> job) {
  auto i = next_.fetch_add(1, std::memory_order_relaxed) % workers_.size();
  caf::anon_send(workers_[i], detail::job_atom::value, detail::loader_job{std::move(job)});
}

void loader_pool::stop() {
  for (auto& w : workers_)
    caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  workers_.clear();
}

} // namespace annal
