// A loopback TCP port for the nodes a test or a benchmark starts: one that nothing
// listened on a moment ago. It is picked below the kernel's ephemeral range (by default
// 32768-60999), from which every outgoing connection takes its source port: a port from
// that range, released for a node to bind a moment later, was sometimes taken by a
// connection of a test running beside it in that moment (CI, stop 37: "cannot listen on
// 127.0.0.1:54855"). Another test may still pick the same port, rarely; tests that start
// many nodes retry then.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <random>

namespace annal::testing {

namespace detail {

/// True when a socket could be bound to 127.0.0.1:`port` (0: any; `port` gets the one bound).
inline bool bindable(uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  socklen_t len = sizeof a;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0
            && ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  if (ok)
    port = ntohs(a.sin_port);
  ::close(fd);
  return ok;
}

/// The lowest port of the kernel's ephemeral range (32768 when it cannot be read).
inline unsigned ephemeral_low() {
  unsigned low = 32768;
  std::ifstream{"/proc/sys/net/ipv4/ip_local_port_range"} >> low;
  return low;
}

} // namespace detail

/// A port on 127.0.0.1 that was free just now, below the ephemeral range when it can (else
/// any the kernel hands out); 0 when no socket could be bound.
inline uint16_t free_port() {
  unsigned high = detail::ephemeral_low();
  if (high > 10000) {
    std::random_device seed;
    std::minstd_rand rng{seed() ^ static_cast<unsigned>(::getpid())};
    std::uniform_int_distribution<unsigned> pick{10000, high - 1};
    for (int attempt = 0; attempt < 64; ++attempt) {
      auto port = static_cast<uint16_t>(pick(rng));
      if (detail::bindable(port))
        return port;
    }
  }
  uint16_t any = 0;
  return detail::bindable(any) ? any : 0;
}

} // namespace annal::testing
