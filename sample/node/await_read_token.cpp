// Read-your-writes in a cluster: a query waits until the node's cluster read models
// applied the token's event. cluster_projection::wait_for would block a thread, and
// handle() never does, so the wait polls the projection's positions on a timer of the
// request's executor.
#include <boost/asio/steady_timer.hpp>

#include "annal/cluster/cluster_projection.hpp"
#include "shop/node/shop_service.hpp"

namespace shop::node {

using namespace shop::http;

namespace {

// Between two looks at the projection's position: well under a command's own latency.
constexpr std::chrono::milliseconds poll_interval{2};

struct token_wait : std::enable_shared_from_this<token_wait> {
  using done_fn = std::function<void(std::optional<api_error>)>;
  token_wait(const executor& ex, const annal::cluster::cluster_projection& p, read_token t,
             std::chrono::steady_clock::time_point until, done_fn done)
    : timer(ex), reads(p), token(t), deadline(until), then(std::move(done)) {}

  boost::asio::steady_timer timer;
  const annal::cluster::cluster_projection& reads;
  read_token token;
  std::chrono::steady_clock::time_point deadline;
  done_fn then;

  uint64_t applied() const { return reads.position(token.shard); }

  void poll() {
    if (applied() >= token.shard_position)
      return then(std::nullopt);
    if (std::chrono::steady_clock::now() >= deadline)
      return then(api_error{504, "projection_lagging",
                            "the read models are at " + std::to_string(applied()) + " in shard "
                              + std::to_string(token.shard) + ", not yet at "
                              + std::to_string(token.shard_position)});
    timer.expires_after(poll_interval);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec)
        self->poll();
    });
  }
};

} // namespace

void shop_service::await_read_token(const query_meta& q, std::chrono::milliseconds timeout,
                                    const executor& ex, wait_done then) {
  if (q.min_position > 0)
    return then(bad_request("min_position is a position in one node's journal: in a cluster, "
                            "pass the read_token of the command's answer"));
  if (!q.token)
    return then(std::nullopt);
  auto shards = cluster_reads_->shard_count();
  if (q.token->shard >= shards)
    return then(bad_request("read_token names shard " + std::to_string(q.token->shard)
                            + "; the cluster has " + std::to_string(shards)));
  if (cluster_reads_->position(q.token->shard) < q.token->shard_position)
    cluster_reads_->catch_up_now(q.token->shard); // not after a pause
  std::make_shared<token_wait>(ex, *cluster_reads_, *q.token,
                               std::chrono::steady_clock::now() + timeout, std::move(then))
    ->poll();
}

} // namespace shop::node
