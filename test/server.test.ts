// The other ways in (libdill's attach, libcurl's raw mode and callbacks) on
// the same core: our server side against our client, the ws client and
// Debian's python3-websockets client; WS_NOHTTP pairs; detach; raw mode;
// callbacks; caller-supplied buffers.

import { strict as assert } from "node:assert";
import { execFile, spawnSync } from "node:child_process";
import net from "node:net";
import type { AddressInfo } from "node:net";
import WebSocket from "ws";
import {
  WEBSOCK_ERR,
  WEBSOCK_OP,
  WS_BINARY,
  WS_NOHTTP,
  WS_TEXT,
  websock_attach_client,
  websock_attach_server,
  websock_close,
  websock_close_with_code,
  websock_detach,
  websock_get_info,
  websock_last_error,
  websock_msg_hdr_init,
  websock_open,
  websock_recv,
  websock_send,
  websock_send_binary,
  websock_send_raw,
  websock_send_text,
  websock_set_callback,
  type websock_handle_t,
  type websock_msg_hdr_t,
} from "websock-rfc6455";
import { startEchoServer, type EchoServer } from "../tools/lib/echo-server.js";
import { serverFrame, startRawServer, switchingProtocols } from "./support/raw-server.js";
import { eventually } from "./support/ws-server.js";
import { decodeClientFrames } from "./vectors/runner.js";

async function recvMessage(h: websock_handle_t, timeout = 5000): Promise<{ opcode: number; data: Buffer }> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(1024);
  const parts: Buffer[] = [];
  let opcode = -1;
  for (;;) {
    const n = await websock_recv(h, hdr, buf, 1024, timeout);
    if (n < 0) throw new Error(`recv: ${websock_last_error(h).message}`);
    if (hdr.opcode < 0) throw new Error("recv timed out");
    if (opcode < 0) opcode = hdr.opcode;
    parts.push(Buffer.from(buf.subarray(0, n)));
    if (hdr.fin && hdr.bytesleft === 0) return { opcode, data: Buffer.concat(parts) };
  }
}

/** A connected pair of TCP sockets on 127.0.0.1. */
async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
  const client = net.connect((server.address() as AddressInfo).port, "127.0.0.1");
  await new Promise((r) => client.once("connect", r));
  const other = await accepted;
  server.close();
  return [client, other];
}

function pattern(n: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 13 + 5) & 0xff);
}

describe("websock_attach_server: our server side", () => {
  let echo: EchoServer;
  before(async () => {
    echo = await startEchoServer(0, { subprotocols: ["chat.v2", "chat.v1"] });
  });
  after(() => echo.stop());

  it("echoes our client's text and binary, 0 B to 1 MiB, through 1 KiB buffers on both sides", async () => {
    const h = await websock_open({ hostname: "127.0.0.1", port: echo.port, uri: "/echo", rx_buffer_size: 1024, tx_buffer_size: 1024 });
    assert.ok(h, websock_last_error().message);
    for (const size of [0, 1, 125, 126, 65536, 1 << 20]) {
      const payload = pattern(size);
      assert.equal(await websock_send_binary(h, payload), 0);
      const m = await recvMessage(h);
      assert.equal(m.opcode, WEBSOCK_OP.BINARY);
      assert.ok(m.data.equals(payload), `binary ${size}`);
      const text = "ab€𝄞".repeat(size / 10 + 1);
      assert.equal(await websock_send_text(h, text), 0);
      assert.equal((await recvMessage(h)).data.toString(), text);
    }
    await websock_close(h);
  });

  it("gives the application the resource, Host and offered subprotocols, and picks by its own preference", async () => {
    const h = await websock_open({ hostname: "127.0.0.1", port: echo.port, uri: "/room/7?k=v", subprotocols: ["chat.v1", "chat.v2"] });
    assert.ok(h);
    assert.equal(websock_get_info(h)!.subprotocol, "chat.v2");
    const session = echo.sessions[echo.sessions.length - 1];
    assert.deepEqual(session, { resource: "/room/7?k=v", host: `127.0.0.1:${echo.port}`, subprotocols: ["chat.v1", "chat.v2"] });
    await websock_close(h);
  });

  it("serves the ws client: echo, fragments, ping, and the close code both ways", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${echo.port}/ws`, ["chat.v1"]);
    await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
    assert.equal(ws.protocol, "chat.v1");
    const messages: Array<[string, boolean]> = [];
    ws.on("message", (data, isBinary) => messages.push([isBinary ? Buffer.from(data as Buffer).toString("hex") : data.toString(), isBinary]));
    const pong = new Promise<string>((r) => ws.once("pong", (d) => r(d.toString())));
    ws.send("plain text");
    ws.send(Buffer.from([1, 2, 3]));
    ws.send("frag-", { fin: false });
    ws.send("ment", { fin: true });
    ws.send(Buffer.alloc(200000, 7));
    ws.ping("are you there");
    assert.equal(await pong, "are you there");
    await eventually(() => messages.length === 4);
    assert.deepEqual(messages, [["plain text", false], ["010203", true], ["frag-ment", false], ["07".repeat(200000), true]]);
    const closed = new Promise<[number, string]>((r) => ws.once("close", (code, reason) => r([code, reason.toString()])));
    ws.close(4005, "ws client leaving");
    assert.deepEqual(await closed, [4005, ""]);
  });

  // A peer only a system package provides: run where it is installed, otherwise reported as skipped with the command that installs it.
  const pythonHasWebsockets = spawnSync("/usr/bin/python3", ["-c", "import websockets"], { stdio: "ignore" }).status === 0;
  (pythonHasWebsockets ? it : it.skip)(`serves Debian's python3-websockets client${pythonHasWebsockets ? "" : ` (skipped: not installed here; apt-get install python3-websockets)`}`, async function () {
    const out = await new Promise<string>((resolve, reject) =>
      execFile("/usr/bin/python3", [new URL("./peers/python-client.py", import.meta.url).pathname, `ws://127.0.0.1:${echo.port}/py`], { timeout: 15000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    assert.deepEqual(JSON.parse(out), {
      subprotocol: "chat.v1",
      text: "héllo from python",
      binary_ok: true,
      fragments: "fragmented",
      pong: true,
      close_code: 4003,
    });
  });

  for (const [what, request, status, mustSay] of [
    ["no Upgrade header", "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400, "Upgrade"],
    ["a POST", "POST / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400, "GET"],
    ["a short key", "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n", 400, "Key"],
    ["no Host", "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400, "Host"],
    ["version 8", "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n", 426, "Sec-WebSocket-Version: 13"],
    ["not HTTP", "HELLO\r\n\r\n", 400, "request line"],
  ] as const) {
    it(`answers an upgrade request with ${what} with ${status} and the reason, then closes`, async () => {
      const socket = net.connect(echo.port, "127.0.0.1");
      socket.write(request);
      let answer = "";
      socket.on("data", (d) => (answer += d.toString()));
      await new Promise((r) => socket.once("close", r));
      assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `));
      assert.ok(answer.includes(mustSay), answer);
    });
  }

  it("fails an unmasked frame from the client with 1002", async () => {
    const socket = net.connect(echo.port, "127.0.0.1");
    socket.write("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    const chunks: Buffer[] = [];
    socket.on("data", (d: Buffer) => chunks.push(d));
    await eventually(() => Buffer.concat(chunks).includes("\r\n\r\n"));
    socket.write(serverFrame(1, "not masked"));
    await new Promise((r) => socket.once("close", r));
    const all = Buffer.concat(chunks);
    const frames = all.subarray(all.indexOf("\r\n\r\n") + 4);
    // The server's close frame is unmasked: 0x88, length 2, 1002.
    assert.equal(frames.toString("hex"), "880203ea");
  });
});

describe("WS_NOHTTP, detach, raw mode, callbacks and caller-supplied buffers", () => {
  it("pairs a client and a server over a socket pair with no HTTP, with WS_TEXT as websock_send's type", async () => {
    const [a, b] = await socketPair();
    const [server, client] = await Promise.all([
      websock_attach_server(a, WS_NOHTTP | WS_TEXT),
      websock_attach_client(b, WS_NOHTTP, "", ""),
    ]);
    assert.ok(server && client, websock_last_error().message);
    assert.equal(await websock_send(server, "text by default"), 0);
    const m = await recvMessage(client);
    assert.deepEqual([m.opcode, m.data.toString()], [WEBSOCK_OP.TEXT, "text by default"]);
    assert.equal(await websock_send(client, Uint8Array.of(5, 6)), 0);
    const back = await recvMessage(server);
    assert.deepEqual([back.opcode, [...back.data]], [WEBSOCK_OP.BINARY, [5, 6]]);
    await Promise.all([websock_close_with_code(client, 4100, "pair done"), recvMessage(server).catch(() => null)]);
    assert.equal(websock_last_error(server).close_code, 4100);
    await websock_close(server);
  });

  it("attaches a client with the HTTP handshake over a socket the application connected", async () => {
    const echo = await startEchoServer();
    try {
      const socket = net.connect(echo.port, "127.0.0.1");
      const h = await websock_attach_client(socket, WS_BINARY, "/attached", `127.0.0.1:${echo.port}`, { rx_buffer_size: 512 });
      assert.ok(h, websock_last_error().message);
      assert.equal(await websock_send(h, pattern(3000)), 0);
      assert.ok((await recvMessage(h)).data.equals(pattern(3000)));
      assert.equal(echo.sessions[0].resource, "/attached");
      await websock_close(h);
    } finally {
      await echo.stop();
    }
  });

  it("detaches both sides after the close handshake and hands back working sockets", async () => {
    const [a, b] = await socketPair();
    const [server, client] = await Promise.all([websock_attach_server(a, WS_NOHTTP), websock_attach_client(b, WS_NOHTTP, "", "")]);
    assert.ok(server && client);
    assert.equal(await websock_send_text(client, "before detach"), 0);
    assert.equal((await recvMessage(server)).data.toString(), "before detach");
    const [sa, sb] = (await Promise.all([websock_detach(server), websock_detach(client)])) as [net.Socket, net.Socket];
    assert.equal(sa, a);
    assert.equal(sb, b);
    const got = new Promise<string>((r) => sa.once("data", (d) => r(d.toString())));
    sa.resume();
    sb.write("plain TCP again");
    assert.equal(await got, "plain TCP again");
    assert.equal(await websock_send_text(client, "x"), WEBSOCK_ERR.INVALID_ARG, "the handle is gone");
    sa.destroy();
    sb.destroy();
  });

  it("raw mode passes bytes through untouched after the handshake", async () => {
    const raw = await startRawServer((p) => p.socket.write(Buffer.concat([Buffer.from(switchingProtocols(p.request.accept)), Buffer.from("not a frame \x81\x05", "latin1")])));
    try {
      const h = await websock_open({ hostname: "127.0.0.1", port: raw.port, raw_mode: true });
      assert.ok(h, websock_last_error().message);
      const hdr = websock_msg_hdr_init();
      const buf = new Uint8Array(64);
      const n = await websock_recv(h, hdr, buf, 64, 2000);
      assert.equal(hdr.opcode, WEBSOCK_OP.RAW);
      assert.equal(Buffer.from(buf.subarray(0, n)).toString("latin1"), "not a frame \x81\x05");
      assert.equal(await websock_send_text(h, "framed?"), WEBSOCK_ERR.INVALID_ARG);
      assert.equal(await websock_send_raw(h, Buffer.from("raw bytes out")), 0);
      await eventually(() => raw.peers[0].received().toString() === "raw bytes out");
      await websock_close(h);
      await raw.peers[0].ended;
    } finally {
      await raw.stop();
    }
  });

  it("delivers every piece to a callback with its metadata, then one last call at the end", async () => {
    const raw = await startRawServer((p) => {
      p.socket.write(Buffer.from(switchingProtocols(p.request.accept)));
      setTimeout(() => {
        p.socket.write(Buffer.concat([serverFrame(1, "one", false), serverFrame(9, "pi"), serverFrame(0, "two"), serverFrame(2, Buffer.alloc(700, 1))]));
        p.socket.write(Buffer.from("8802", "hex"));
        p.socket.end(Buffer.from("0fa0", "hex")); // close 4000
      }, 50);
    });
    try {
      const h = await websock_open({ hostname: "127.0.0.1", port: raw.port, rx_buffer_size: 256 });
      assert.ok(h);
      const seen: Array<[number, boolean, number, number, number, string]> = [];
      let ended: websock_msg_hdr_t | null = null;
      assert.equal(
        websock_set_callback(h, (handle, hdr, data) => {
          assert.equal(handle, h);
          if (hdr.opcode < 0) ended = { ...hdr };
          else seen.push([hdr.opcode, hdr.fin, hdr.payload_len, hdr.offset, hdr.bytesleft, data.length <= 3 ? Buffer.from(data).toString() : `${data.length}B`]);
        }),
        0,
      );
      assert.equal(await websock_recv(h, websock_msg_hdr_init(), new Uint8Array(8), 8, 0), WEBSOCK_ERR.INVALID_ARG);
      await eventually(() => ended !== null);
      assert.deepEqual(seen.slice(0, 2), [[1, false, 3, 0, 0, "one"], [0, true, 3, 0, 0, "two"]]);
      const binary = seen.slice(2);
      assert.equal(binary.reduce((a, p) => a + Number(p[5].replace("B", "")), 0), 700);
      assert.ok(binary.every((p) => p[0] === 2 && p[2] === 700 && p[3] + Number(p[5].replace("B", "")) + p[4] === 700));
      assert.equal(websock_last_error(h).close_code, 4000);
      await eventually(() => raw.peers[0].frames().some((f) => f.opcode === 10 && Buffer.from(f.payload).toString() === "pi"));
      await websock_close(h);
    } finally {
      await raw.stop();
    }
  });

  it("a callback that throws fails the connection with 1011 instead of escaping", async () => {
    const raw = await startRawServer((p) => p.socket.write(Buffer.concat([Buffer.from(switchingProtocols(p.request.accept)), serverFrame(1, "boom")])));
    try {
      const h = await websock_open({ hostname: "127.0.0.1", port: raw.port });
      assert.ok(h);
      websock_set_callback(h, () => {
        throw new Error("application bug");
      });
      await eventually(() => decodeClientFrames(new Uint8Array(raw.peers[0].received())).frames.some((f) => f.opcode === 8));
      const close = decodeClientFrames(new Uint8Array(raw.peers[0].received())).frames.find((f) => f.opcode === 8)!;
      assert.equal((close.payload[0] << 8) | close.payload[1], 1011);
      assert.match(websock_last_error(h).message, /application bug/);
      await websock_close(h);
    } finally {
      await raw.stop();
    }
  });

  it("uses the caller's buffers instead of allocating", async () => {
    const echo = await startEchoServer();
    try {
      const rx = new Uint8Array(300);
      const tx = new Uint8Array(300);
      const h = await websock_open({ hostname: "127.0.0.1", port: echo.port, rx_buffer: rx, tx_buffer: tx });
      assert.ok(h, websock_last_error().message);
      assert.equal(await websock_send_text(h, "through your buffers"), 0);
      assert.ok(Buffer.from(tx).includes(Buffer.from([0x81, 0x80 | 20])), "the frame header was written into tx_buffer");
      assert.equal((await recvMessage(h)).data.toString(), "through your buffers");
      assert.ok(Buffer.from(rx).includes("through your buffers"), "the frame arrived in rx_buffer");
      await websock_close(h);
      assert.equal(await websock_open({ hostname: "127.0.0.1", port: echo.port, rx_buffer: new Uint8Array(100) }), null);
      assert.match(websock_last_error().message, /rx_buffer/);
    } finally {
      await echo.stop();
    }
  });

  it("refuses what cannot be attached, with a clear error", async () => {
    assert.equal(await websock_attach_server({} as net.Socket, WS_BINARY), null);
    assert.match(websock_last_error().message, /stream/);
    const [a, b] = await socketPair();
    assert.equal(await websock_attach_server(a, 8), null);
    assert.match(websock_last_error().message, /flags/);
    assert.equal(await websock_attach_client(b, WS_BINARY, "/", "bad host\r\n"), null);
    assert.match(websock_last_error().message, /host/);
    a.destroy();
    b.destroy();
  });
});
