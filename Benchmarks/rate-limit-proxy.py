#!/usr/bin/env python3
"""A TCP proxy on loopback whose client-to-server direction is limited to RATE bytes a second,
shared by all connections: a model of a real uplink (a CI runner pushing to a cloud registry)
for Benchmarks/build-push.sh, which otherwise measures against a loopback registry that takes
a 300 MB upload in 2-3 s. Bytes pass through unchanged (no HTTP parsing), so the registry's
Location headers, built from the Host header, point back at the proxy. Answers are not
limited (they are small). Loopback only, by construction.

usage: rate-limit-proxy.py LISTEN_PORT UPSTREAM_PORT BYTES_PER_SECOND
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


async def pipe(reader, writer, uplink):
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            if uplink is not None:
                await uplink.take(len(data))
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

    async def handle(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", upstream)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, server_writer, uplink), pipe(server_reader, client_writer, None))

    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__.strip().splitlines()[-1])
    asyncio.run(main())
