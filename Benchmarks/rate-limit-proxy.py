#!/usr/bin/env python3
"""A TCP proxy on loopback whose client-to-server direction is limited to RATE bytes a second,
shared by all connections: a model of a real uplink (a CI runner pushing to a cloud registry)
for Benchmarks/build-push.sh, which otherwise measures against a loopback registry that takes
a 300 MB upload in 2-3 s. Bytes pass through unchanged (no HTTP parsing), so the registry's
Location headers, built from the Host header, point back at the proxy. Answers are not
limited (they are small). Loopback only, by construction.

With FIRST_BYTES_FILE, the wall time (seconds since the epoch) at which the client has sent
256 KiB in all, connections together — past the requests' headers, so into the first layer's
bytes — is written there once (Benchmarks/first-byte.sh: time to the first uploaded byte).

usage: rate-limit-proxy.py LISTEN_PORT UPSTREAM_PORT BYTES_PER_SECOND [FIRST_BYTES_FILE]
"""
import asyncio
import sys
import time

CHUNK = 64 * 1024


class Uplink:
    """A token bucket: `take(n)` waits until n bytes may go, at `rate` bytes a second."""

    def __init__(self, rate):
        self.rate = rate
        self.allowance = 0.0
        self.last = time.monotonic()
        self.lock = asyncio.Lock()

    async def take(self, n):
        async with self.lock:
            now = time.monotonic()
            # At most a tenth of a second of burst, as a link's buffers would hold.
            self.allowance = min(self.rate / 10, self.allowance + (now - self.last) * self.rate)
            self.last = now
            self.allowance -= n
            if self.allowance < 0:
                await asyncio.sleep(-self.allowance / self.rate)


FIRST_BYTES = 256 * 1024


class Sent:
    """Counts client bytes; notes when FIRST_BYTES have gone."""

    def __init__(self, path):
        self.path = path
        self.total = 0

    def add(self, n):
        before = self.total
        self.total += n
        if self.path and before < FIRST_BYTES <= self.total:
            with open(self.path, "w") as f:
                f.write(f"{time.time():.4f}\n")


async def pipe(reader, writer, uplink, sent=None):
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            if uplink is not None:
                await uplink.take(len(data))
            if sent is not None:
                sent.add(len(data))
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main():
    listen, upstream, rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    uplink = Uplink(rate)
    sent = Sent(sys.argv[4] if len(sys.argv) > 4 else None)

    async def handle(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", upstream)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, server_writer, uplink, sent), pipe(server_reader, client_writer, None))

    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__.strip().splitlines()[-1])
    asyncio.run(main())
