// The proofs by which two nodes show each other that they know the cluster's shared secret
// without sending it (challenge/response, both directions):
//
//   connecting node C                         listening node S
//   hello(C's id, nonce_c)             ─────►
//                                      ◄───── (nonce_s, server_proof)   S proves first
//   checks server_proof; prove(client_proof) ─►  checks client_proof: C is admitted
//
// Each proof is HMAC-SHA256 (OpenSSL libcrypto) keyed with the secret over a label, both
// node ids and both nonces, so a proof answers one challenge only and cannot be reflected
// back to its sender (the labels differ). Thread safety: free functions, reentrant.
#pragma once

#include <string>
#include <string_view>

#include "annal/result.hpp"

namespace annal::cluster {

/// 32 random bytes from the system's CSPRNG, as 64 hex digits. Errors: io_error.
result<std::string> make_nonce();

/// HMAC-SHA256 of `message` keyed with `key`, as 64 hex digits.
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

/// The listening node's answer to a hello: proves it knows `secret`.
std::string server_proof(std::string_view secret, std::string_view server_id,
                         std::string_view client_id, std::string_view client_nonce,
                         std::string_view server_nonce);

/// The connecting node's answer to the listening node's nonce.
std::string client_proof(std::string_view secret, std::string_view server_id,
                         std::string_view client_id, std::string_view client_nonce,
                         std::string_view server_nonce);

/// Compares two proofs in constant time (no timing hint about how much matched).
bool proofs_equal(std::string_view a, std::string_view b) noexcept;

} // namespace annal::cluster
