#include "soak/soak_client.hpp"

#include <httplib.h>

namespace annal::soak {

std::string reply::error() const {
  if (json.is_object() && json.contains("error") && json["error"].is_string())
    return json["error"].get<std::string>();
  return {};
}

soak_client::soak_client(int port, std::chrono::seconds timeout)
  : cli_(std::make_unique<httplib::Client>("127.0.0.1", port)) {
  cli_->set_keep_alive(true);
  cli_->set_tcp_nodelay(true);
  cli_->set_connection_timeout(timeout);
  cli_->set_read_timeout(timeout);
  cli_->set_write_timeout(timeout);
}

soak_client::~soak_client() = default;
soak_client::soak_client(soak_client&&) noexcept = default;
soak_client& soak_client::operator=(soak_client&&) noexcept = default;

namespace {

reply convert(const httplib::Result& r) {
  reply out;
  if (!r)
    return out;
  out.status = r->status;
  out.text = r->body;
  out.json = nlohmann::json::parse(r->body, nullptr, false);
  if (out.json.is_discarded())
    out.json = nullptr;
  return out;
}

} // namespace

reply soak_client::get(const std::string& path) {
  return convert(cli_->Get(path));
}

reply soak_client::post(const std::string& path, const nlohmann::json& body) {
  return convert(cli_->Post(path, body.dump(), "application/json"));
}

} // namespace annal::soak
