"""An echo server whose answers are slow for its first seconds: for tests of what a
load report says about latency over time.

usage: slow_start_echo.py SLOW_SECONDS DELAY_SECONDS
  Listens on a free loopback port (prints 'Listening on 127.0.0.1:PORT'); every answer
  to bytes received within SLOW_SECONDS of the first connection is held DELAY_SECONDS,
  later ones go back at once (counted from the first connection, not from the start, so
  a client slow to start still meets the slow seconds). Runs until killed.
"""

import asyncio
import sys
import time


async def main(slow, delay):
    started = []

    async def serve(reader, writer):
        if not started:
            started.append(time.monotonic())
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if time.monotonic() - started[0] < slow:
                await asyncio.sleep(delay)
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    print(f"Listening on 127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    asyncio.run(main(float(sys.argv[1]), float(sys.argv[2])))
