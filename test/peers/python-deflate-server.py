"""A python-websockets (Debian's python3-websockets) server with
permessage-deflate for test/deflate.test.ts: it echoes every message, answers
"big" with 200 KB of repetitive JSON, and prints its port as one JSON line.
Run with /usr/bin/python3; it exits when its stdin closes."""
import asyncio
import json
import sys

import websockets
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory


async def handler(ws, *args):
    async for message in ws:
        if message == "big":
            await ws.send(json.dumps([{"sensor": i % 7, "value": i * 0.5, "ok": True} for i in range(5000)]))
        else:
            await ws.send(message)


async def main(no_context):
    # The client's server_max_window_bits is honoured (websockets answers it); 12 is websockets' default.
    factory = ServerPerMessageDeflateFactory(server_no_context_takeover=no_context, server_max_window_bits=12 if not no_context else None)
    async with websockets.serve(handler, "127.0.0.1", 0, extensions=[factory], max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(json.dumps({"port": port}), flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)


asyncio.run(main(len(sys.argv) > 1 and sys.argv[1] == "no_context"))
