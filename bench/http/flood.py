#!/usr/bin/env python3
"""Hostile-client load for bench/http/flood.sh (loopback only, bounded in count and time).

  flood.py hold   --port P --idle 2000 --slow 64 --seconds 30
      opens idle connections (nothing sent) and slow-loris clients (a request's headers,
      one byte a second, never finished; a dropped one is reopened), prints "ready", and
      holds them for --seconds.
  flood.py health --port P --count 200
      times GET /health (a fresh connection each), prints p50/p99/max in ms.
  flood.py burst  --port P --connections 5000 --timeout 10
      opens that many connections at once, sends GET /health on each, and counts the
      answers (200, 503, other) and the unanswered within --timeout seconds.
"""
import argparse
import asyncio
import sys
import time

HOST = "127.0.0.1"


async def hold(port, idle, slow, seconds):
    deadline = time.monotonic() + seconds
    held = []
    failed = 0
    for _ in range(idle):
        try:
            held.append(await asyncio.wait_for(asyncio.open_connection(HOST, port), 5))
        except (OSError, asyncio.TimeoutError):
            failed += 1

    async def loris():
        while time.monotonic() < deadline:
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 5)
                writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n")
                await writer.drain()
                while time.monotonic() < deadline:
                    writer.write(b"X")
                    await writer.drain()
                    await asyncio.sleep(1)
                writer.close()
            except (OSError, asyncio.TimeoutError):
                await asyncio.sleep(0.2)  # dropped by the server: come back

    tasks = [asyncio.create_task(loris()) for _ in range(slow)]
    await asyncio.sleep(0.5)
    print(f"ready idle={len(held)} idle_failed={failed} slow={slow}", flush=True)
    await asyncio.gather(*tasks)
    for _, w in held:
        w.close()


async def one_health(port, timeout=10):
    t0 = time.monotonic()
    reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout)
    writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    await writer.drain()
    data = await asyncio.wait_for(reader.read(4096), timeout)
    writer.close()
    return (time.monotonic() - t0) * 1000, data[:12]


async def health(port, count):
    took = []
    bad = 0
    for _ in range(count):
        try:
            ms, head = await one_health(port)
            took.append(ms)
            if head != b"HTTP/1.1 200":
                bad += 1
        except (OSError, asyncio.TimeoutError):
            bad += 1
        await asyncio.sleep(0.01)
    took.sort()
    if not took:
        print("HEALTH n=0 failed=%d" % bad)
        return
    pct = lambda p: took[min(len(took) - 1, int(len(took) * p))]
    print("HEALTH n=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f failed=%d"
          % (len(took), pct(0.5), pct(0.99), took[-1], bad), flush=True)


async def burst(port, connections, timeout):
    counts = {"200": 0, "503": 0, "other": 0, "unanswered": 0}
    t0 = time.monotonic()

    async def one():
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            await writer.drain()
            data = await reader.read(4096)
            writer.close()
            code = data[9:12].decode(errors="replace")
            counts[code if code in ("200", "503") else "other"] += 1
        except OSError:
            counts["unanswered"] += 1

    tasks = [asyncio.create_task(one()) for _ in range(connections)]
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for t in pending:
        t.cancel()
    counts["unanswered"] += len(pending)
    print("BURST connections=%d seconds=%.2f ok=%d refused_503=%d other=%d unanswered=%d"
          % (connections, time.monotonic() - t0, counts["200"], counts["503"], counts["other"],
             counts["unanswered"]), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["hold", "health", "burst"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--idle", type=int, default=2000)
    ap.add_argument("--slow", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--connections", type=int, default=5000)
    ap.add_argument("--timeout", type=float, default=10)
    a = ap.parse_args()
    # Bounded whatever happens: never longer than the run asked for plus a margin.
    limit = {"hold": a.seconds + 30, "health": a.count * 10 + 10, "burst": a.timeout + 5}[a.mode]
    coro = {"hold": lambda: hold(a.port, a.idle, a.slow, a.seconds),
            "health": lambda: health(a.port, a.count),
            "burst": lambda: burst(a.port, a.connections, a.timeout)}[a.mode]()
    try:
        asyncio.run(asyncio.wait_for(coro, limit))
    except asyncio.TimeoutError:
        print("flood.py: gave up after %.0f s" % limit, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
