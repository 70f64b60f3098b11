#include "annal/cluster/handshake.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace annal::cluster {

namespace {

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 0xf]);
  }
  return out;
}

// Fields joined with a separator that no node id or hex nonce contains, and with each
// field's length, so that no two different field lists give the same message.
std::string message(std::string_view label, std::initializer_list<std::string_view> fields) {
  std::string out{label};
  for (auto f : fields) {
    out += '\n';
    out += std::to_string(f.size());
    out += ':';
    out.append(f.data(), f.size());
  }
  return out;
}

} // namespace

result<std::string> make_nonce() {
  unsigned char buf[32];
  if (RAND_bytes(buf, sizeof buf) != 1)
    return make_error(errc::io_error, "the system's random generator failed");
  return hex(buf, sizeof buf);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view msg) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out, &size);
  return hex(out, size);
}

std::string server_proof(std::string_view secret, std::string_view server_id,
                         std::string_view client_id, std::string_view client_nonce,
                         std::string_view server_nonce) {
  return hmac_sha256_hex(secret, message("annal-cluster-1 server",
                                         {server_id, client_id, client_nonce, server_nonce}));
}

std::string client_proof(std::string_view secret, std::string_view server_id,
                         std::string_view client_id, std::string_view client_nonce,
                         std::string_view server_nonce) {
  return hmac_sha256_hex(secret, message("annal-cluster-1 client",
                                         {server_id, client_id, client_nonce, server_nonce}));
}

bool proofs_equal(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace annal::cluster
