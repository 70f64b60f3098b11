#include "annal/cluster/cluster_config.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace annal::cluster {

namespace {

using nlohmann::json;

// Shorter secrets are refused: an HMAC key of a few bytes is guessable.
constexpr std::size_t min_secret_size = 16;

error bad(std::string what) {
  return make_error(errc::bad_request, "cluster config: " + std::move(what));
}

// Reads the secret the file names; trailing newlines (of `echo x > file`) are not part of it.
result<std::string> load_secret(const json& j) {
  std::string secret;
  if (j.contains("secret_file")) {
    if (!j["secret_file"].is_string())
      return bad("secret_file must be a path");
    auto path = j["secret_file"].get<std::string>();
    std::ifstream in{path, std::ios::binary};
    if (!in)
      return make_error(errc::io_error, "cluster config: cannot read the secret file " + path);
    std::ostringstream buf;
    buf << in.rdbuf();
    secret = buf.str();
  } else if (j.contains("secret_env")) {
    if (!j["secret_env"].is_string())
      return bad("secret_env must be the name of an environment variable");
    auto name = j["secret_env"].get<std::string>();
    const char* value = std::getenv(name.c_str());
    if (value == nullptr)
      return bad("the environment variable " + name + " (secret_env) is not set");
    secret = value;
  } else {
    return bad("name the shared secret: secret_file or secret_env");
  }
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r'))
    secret.pop_back();
  if (secret.size() < min_secret_size)
    return bad("the shared secret is shorter than " + std::to_string(min_secret_size) + " bytes");
  return secret;
}

// Replaces every "{node}" in `path` with the node's id: one shared file names each node's
// own certificate and key.
std::string for_node(std::string path, const std::string& node_id) {
  static const std::string mark = "{node}";
  for (auto at = path.find(mark); at != std::string::npos; at = path.find(mark, at + node_id.size()))
    path.replace(at, mark.size(), node_id);
  return path;
}

// "tls": {"certificate", "key", "ca_file"}: all three, each readable now (a node that
// cannot use its files should not start and then fail every handshake).
result<std::optional<tls_files>> parse_tls(const json& j, const std::string& node_id) {
  if (!j.contains("tls"))
    return std::optional<tls_files>{};
  const auto& t = j["tls"];
  if (!t.is_object())
    return bad("tls must be an object with certificate, key and ca_file");
  tls_files out;
  for (auto [key, field] : {std::pair{"certificate", &out.certificate}, std::pair{"key", &out.key},
                            std::pair{"ca_file", &out.ca_file}}) {
    if (!t.contains(key) || !t[key].is_string() || t[key].get<std::string>().empty())
      return bad(std::string{"tls."} + key + " must name a PEM file (certificate-less TLS is "
                                               "unauthenticated and not offered)");
    *field = for_node(t[key].get<std::string>(), node_id);
  }
  for (const auto& [key, path] : {std::pair{"certificate", out.certificate}, std::pair{"key", out.key},
                                  std::pair{"ca_file", out.ca_file}})
    if (!std::ifstream{path})
      return make_error(errc::io_error, std::string{"cluster config: cannot read tls."} + key + " "
                                          + path.string());
  return std::optional<tls_files>{std::move(out)};
}

result<std::vector<member>> parse_members(const json& j) {
  if (!j.contains("members") || !j["members"].is_array() || j["members"].empty())
    return bad("members must be a non-empty array");
  std::vector<member> out;
  std::set<std::string> ids;
  for (const auto& m : j["members"]) {
    if (!m.is_object() || !m.contains("id") || !m["id"].is_string() || !m.contains("host")
        || !m["host"].is_string() || !m.contains("port") || !m["port"].is_number_unsigned()
        || (m.contains("joins") && !m["joins"].is_boolean()))
      return bad("each member needs id (string), host (string) and port (number); joins is a boolean");
    auto port = m["port"].get<uint64_t>();
    member x{m["id"].get<std::string>(), m["host"].get<std::string>(), static_cast<uint16_t>(port),
             m.value("joins", false)};
    if (x.id.empty() || x.id.size() > 255 || port == 0 || port > 65535)
      return bad("member '" + x.id + "': id not 1..255 bytes or port outside 1..65535");
    if (!ids.insert(x.id).second)
      return bad("member '" + x.id + "' appears twice");
    out.push_back(std::move(x));
  }
  return out;
}

status apply_overrides(const json& j, const std::set<std::string>& ids, shard_map& map) {
  if (!j.contains("shards"))
    return {};
  if (!j["shards"].is_object())
    return bad("shards must be an object of shard number -> {owner, epoch}");
  for (const auto& [key, v] : j["shards"].items()) {
    char* end = nullptr;
    auto shard = std::strtoul(key.c_str(), &end, 10);
    if (key.empty() || *end != '\0' || shard >= map.shard_count())
      return bad("shard '" + key + "' is not a shard number below the shard count");
    if (!v.is_object() || !v.contains("owner") || !v["owner"].is_string()
        || (v.contains("epoch") && !v["epoch"].is_number_unsigned()))
      return bad("shard " + key + ": needs owner (string) and epoch (number >= 1)");
    shard_owner o{v["owner"].get<std::string>(), v.value("epoch", uint64_t{1})};
    if (ids.count(o.node) == 0 || o.epoch == 0)
      return bad("shard " + key + ": owner '" + o.node + "' is no member, or epoch 0");
    map.set_owner(static_cast<uint16_t>(shard), std::move(o));
  }
  return {};
}

} // namespace

const member& cluster_config::self() const {
  for (const auto& m : members)
    if (m.id == node_id)
      return m;
  return members.at(0); // unreachable for a parsed config: node_id is a member
}

result<cluster_config> parse_cluster_config(const std::string& json_text, const std::string& node_id) {
  auto j = json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return bad("not a JSON object");
  cluster_config cfg;
  cfg.node_id = node_id;
  auto members = parse_members(j);
  if (!members)
    return std::move(members).error();
  cfg.members = std::move(*members);
  std::set<std::string> ids, founders;
  for (const auto& m : cfg.members) {
    ids.insert(m.id);
    if (!m.joins)
      founders.insert(m.id);
  }
  if (founders.empty())
    return bad("every member joins: the shards need at least one member that does not");
  if (ids.count(node_id) == 0)
    return bad("node id '" + node_id + "' is not among the members");
  uint64_t count = 64; // as store_options::shard_count: the map and the journals agree
  if (j.contains("shard_count")) {
    if (!j["shard_count"].is_number_unsigned())
      return bad("shard_count must be a number in 1..65535");
    count = j["shard_count"].get<uint64_t>();
  }
  if (count == 0 || count > 65535)
    return bad("shard_count must be a number in 1..65535");
  cfg.shards = shard_map::assign({founders.begin(), founders.end()}, static_cast<uint16_t>(count));
  if (auto ok = apply_overrides(j, ids, cfg.shards); !ok)
    return std::move(ok).error();
  for (auto [key, field] : {std::pair{"forward_timeout_ms", &cfg.forward_timeout},
                            std::pair{"move_timeout_ms", &cfg.move_timeout},
                            std::pair{"heartbeat_ms", &cfg.heartbeat},
                            std::pair{"connection_timeout_ms", &cfg.connection_timeout}}) {
    if (!j.contains(key))
      continue;
    if (!j[key].is_number_unsigned() || j[key].get<uint64_t>() == 0)
      return bad(std::string{key} + " must be a positive number");
    *field = std::chrono::milliseconds{j[key].get<uint64_t>()};
  }
  if (cfg.connection_timeout < 2 * cfg.heartbeat)
    return bad("connection_timeout_ms must be at least two heartbeats (heartbeat_ms)");
  auto tls = parse_tls(j, node_id);
  if (!tls)
    return std::move(tls).error();
  cfg.tls = std::move(*tls);
  auto secret = load_secret(j);
  if (!secret)
    return std::move(secret).error();
  cfg.secret = std::move(*secret);
  return cfg;
}

result<cluster_config> load_cluster_config(const std::filesystem::path& file, const std::string& node_id) {
  std::ifstream in{file, std::ios::binary};
  if (!in)
    return make_error(errc::io_error, "cannot read the cluster config " + file.string());
  std::ostringstream buf;
  buf << in.rdbuf();
  return parse_cluster_config(buf.str(), node_id);
}

} // namespace annal::cluster
