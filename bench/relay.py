"""The bare transport the chat is compared with: a plain `websockets` relay, no Django, no database.

Clients join a room by path (`/room/<name>/`); every text frame a client sends is forwarded to
the other members of the room and echoed to the sender, the way the chat relays a message to
both sides. Nothing is stored or validated, so its latency is the floor the real chat adds to.

    python bench/relay.py --port 8765

It prints `ready <port>` once it listens, and stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

rooms: dict[str, set[ServerConnection]] = {}


async def handle(connection: ServerConnection) -> None:
    path = connection.request.path if connection.request is not None else "/"
    room = rooms.setdefault(path, set())
    room.add(connection)
    try:
        async for frame in connection:
            # Echo first, then the partner, as the chat does; awaited sends keep the order and
            # apply back-pressure instead of dropping frames for a slow reader.
            for member in (connection, *(m for m in room if m is not connection)):
                with contextlib.suppress(ConnectionClosed):
                    await member.send(frame)
    except ConnectionClosed:
        pass
    finally:
        room.discard(connection)
        if not room:
            rooms.pop(path, None)


async def main(host: str, port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    # No keep-alive pings: the benchmark's sockets are busy and short-lived.
    async with serve(handle, host, port, ping_interval=None, max_queue=None) as server:
        bound = next(iter(server.sockets)).getsockname()[1]
        print(f"ready {bound}", flush=True)
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 asks the OS for a free port")
    args = parser.parse_args()
    try:
        asyncio.run(main(args.host, args.port))
    except KeyboardInterrupt:
        sys.exit(0)
