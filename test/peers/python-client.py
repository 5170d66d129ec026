"""A python-websockets (Debian's python3-websockets) client for the server-side
tests: it runs a fixed script against the URL given and prints one JSON line
with what it saw. Run by test/server.test.ts with /usr/bin/python3."""
import asyncio
import json
import sys

import websockets


async def main(url):
    seen = {}
    async with websockets.connect(url, subprotocols=["chat.v1"], max_size=None) as ws:
        seen["subprotocol"] = ws.subprotocol
        await ws.send("héllo from python")
        seen["text"] = await ws.recv()
        payload = bytes(range(256)) * 400  # 100 KiB
        await ws.send(payload)
        seen["binary_ok"] = (await ws.recv()) == payload
        # An iterable is sent as the fragments of one message.
        await ws.send(["frag", "ment", "ed"])
        seen["fragments"] = await ws.recv()
        pong = await ws.ping(b"py-ping")
        await asyncio.wait_for(pong, 5)
        seen["pong"] = True
        await ws.close(code=4003, reason="python says bye")
        seen["close_code"] = ws.close_code
    print(json.dumps(seen))


asyncio.run(main(sys.argv[1]))
