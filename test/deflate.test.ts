// permessage-deflate (RFC 7692) through the websock_* API on the Node host,
// against real peers on 127.0.0.1: the ws server with every window from 9 to
// 15 bits, with and without context takeover; python-websockets' server;
// and a raw TCP peer for the answers and frames no polite server sends.

import { strict as assert } from "node:assert";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import zlib from "node:zlib";
import { WebSocketServer, type WebSocket } from "ws";
import {
  WS_BINARY,
  WS_NOHTTP,
  websock_attach_client,
  websock_attach_server,
  websock_close,
  websock_get_info,
  websock_last_error,
  websock_msg_hdr_init,
  websock_open,
  websock_recv,
  websock_send_binary,
  websock_send_frame,
  websock_send_text,
  websock_set_callback,
  type websock_config_t,
  type websock_handle_t,
  type websock_msg_hdr_t,
} from "websock-rfc6455";
import { assertFailed, CraftedServer } from "./support/crafted.js";
import { serverFrame, startRawServer, switchingProtocols, type RawServer } from "./support/raw-server.js";
import { frame } from "./support/frames.js";

/** Reads one whole message, `len` bytes at a time; checks the piece headers as README "Compression" defines them. */
async function recvMessage(h: websock_handle_t, len: number): Promise<{ opcode: number; data: Buffer; pieces: number }> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(len);
  const parts: Buffer[] = [];
  let opcode = -1;
  let pieces = 0;
  let frameBytes = 0;
  for (;;) {
    const n = await websock_recv(h, hdr, buf, len, 5000);
    if (n < 0) throw new Error(`recv failed: ${websock_last_error(h).name} ${websock_last_error(h).message}`);
    if (hdr.opcode < 0) throw new Error("recv timed out");
    if (opcode < 0) opcode = hdr.opcode;
    assert.equal(hdr.offset, frameBytes, "offset counts the frame's bytes delivered before this piece");
    assert.equal(hdr.offset + n + hdr.bytesleft, hdr.payload_len, "offset + n + bytesleft = payload_len");
    frameBytes = hdr.bytesleft === 0 ? 0 : frameBytes + n;
    parts.push(Buffer.from(buf.subarray(0, n)));
    pieces++;
    if (hdr.fin && hdr.bytesleft === 0) return { opcode, data: Buffer.concat(parts), pieces };
  }
}

/** JSON-like text: what telemetry sends, and what compresses. */
function telemetry(n: number): string {
  let s = "";
  for (let i = 0; s.length < n; i++) s += `{"sensor":${i % 9},"value":${(i * 0.37).toFixed(2)},"unit":"\u00b0C"},`;
  return s.slice(0, n);
}

function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i % 200) ^ ((i >> 12) & 0x0f);
  return b;
}

interface DeflatingServer {
  port: number;
  /** Bytes the server wrote to its sockets, all connections. */
  written(): number;
  stop(): Promise<void>;
}

/** A ws server echoing every message, compressing everything (threshold 0). */
async function startDeflatingServer(perMessageDeflate: object): Promise<DeflatingServer> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: { threshold: 0, ...perMessageDeflate } });
  const sockets: WebSocket[] = [];
  let written = 0;
  wss.on("connection", (ws, req) => {
    sockets.push(ws);
    const socket = req.socket;
    socket.on("close", () => (written += socket.bytesWritten));
    ws.on("error", () => {});
    ws.on("message", (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    written: () => written,
    stop: async () => {
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function open(port: number, deflate: websock_config_t["deflate"], extra: Partial<websock_config_t> = {}): Promise<websock_handle_t> {
  const h = await websock_open({ hostname: "127.0.0.1", port, rx_buffer_size: 256, tx_buffer_size: 1024, deflate, ...extra });
  assert.ok(h, `open failed: ${websock_last_error().message}`);
  return h;
}

describe("permessage-deflate (RFC 7692): negotiation, inflating, and the failures", function () {
  this.timeout(30000);

  describe("against the ws server", () => {
    for (let bits = 9; bits <= 15; bits++) {
      for (const noContext of [false, true]) {
        it(`serverMaxWindowBits ${bits}, ${noContext ? "server_no_context_takeover" : "context takeover"}: echoes text and binary, inflated through a 2^${bits}-byte window and a 256-byte rx buffer`, async () => {
          const server = await startDeflatingServer({ serverMaxWindowBits: bits, serverNoContextTakeover: noContext });
          try {
            const h = await open(server.port, { server_max_window_bits: bits, server_no_context_takeover: noContext });
            const info = websock_get_info(h)!;
            assert.deepEqual(info.deflate, {
              server_max_window_bits: bits, server_no_context_takeover: noContext,
              client_max_window_bits: 15, client_no_context_takeover: false, compressing: false,
            });
            const text = telemetry(40000);
            const binary = pattern(70000);
            let sent = 0;
            for (let round = 0; round < 3; round++) {
              // The same text again: with context takeover the second copy is mostly back-references into the first.
              assert.equal(await websock_send_text(h, text), 0);
              const t = await recvMessage(h, 1000);
              assert.equal(t.opcode, 1);
              assert.equal(t.data.toString("utf8"), text);
              assert.equal(await websock_send_binary(h, binary), 0);
              const b = await recvMessage(h, 333);
              assert.equal(b.opcode, 2);
              assert.ok(b.data.equals(binary), "binary echoed intact");
              assert.equal(await websock_send_text(h, ""), 0);
              assert.equal((await recvMessage(h, 10)).data.length, 0, "an empty message");
              sent += text.length + binary.length;
            }
            await websock_close(h);
            await new Promise((r) => setTimeout(r, 50));
            assert.ok(server.written() < sent / 2, `the server compressed (${server.written()} bytes on the wire for ${sent} bytes of messages)`);
          } finally {
            await server.stop();
          }
        });
      }
    }

    it("a server that limits the window below what was asked (9 for 15): the inflate window is sized by the answer", async () => {
      const server = await startDeflatingServer({ serverMaxWindowBits: 9 });
      try {
        const h = await open(server.port, {});
        assert.equal(websock_get_info(h)!.deflate!.server_max_window_bits, 9);
        const text = telemetry(20000);
        await websock_send_text(h, text);
        assert.equal((await recvMessage(h, 512)).data.toString(), text);
        await websock_close(h);
      } finally {
        await server.stop();
      }
    });

    it("the callback model reads inflated pieces in place from the window", async () => {
      const server = await startDeflatingServer({ serverMaxWindowBits: 10 });
      try {
        const h = await open(server.port, { server_max_window_bits: 10 });
        const text = telemetry(30000);
        const parts: Buffer[] = [];
        let largest = 0;
        const done = new Promise<void>((resolve) => {
          websock_set_callback(h, (_h, hdr: websock_msg_hdr_t, data: Uint8Array) => {
            parts.push(Buffer.from(data));
            largest = Math.max(largest, data.length);
            if (hdr.fin && hdr.bytesleft === 0) resolve();
          });
        });
        await websock_send_text(h, text);
        await done;
        assert.equal(Buffer.concat(parts).toString(), text);
        assert.ok(largest <= 1024, "no piece larger than the 1 KiB window");
        websock_set_callback(h, null);
        await websock_close(h);
      } finally {
        await server.stop();
      }
    });

    it("deflate.compress on the Node host: messages go out compressed (RSV1), fragments sent one by one go as they are", async () => {
      const server = http.createServer();
      const wss = new WebSocketServer({ server, perMessageDeflate: { threshold: 0, serverMaxWindowBits: 10 } });
      let read = 0;
      const received: Array<{ data: Buffer; binary: boolean }> = [];
      wss.on("connection", (ws, req) => {
        req.socket.on("close", () => (read += req.socket.bytesRead));
        ws.on("message", (data, isBinary) => {
          received.push({ data: data as Buffer, binary: isBinary });
          ws.send(data as Buffer, { binary: isBinary });
        });
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      try {
        const h = await open((server.address() as AddressInfo).port, { server_max_window_bits: 10, compress: true });
        const request = websock_get_info(h)!;
        assert.equal(request.deflate!.compressing, true);
        const text = telemetry(60000);
        const binary = pattern(50000);
        assert.equal(await websock_send_text(h, text), 0);
        assert.equal((await recvMessage(h, 1000)).data.toString(), text);
        assert.equal(await websock_send_binary(h, binary), 0);
        assert.ok((await recvMessage(h, 1000)).data.equals(binary));
        assert.equal(await websock_send_text(h, Buffer.from("bytes as text \u00e9")), 0);
        assert.equal((await recvMessage(h, 1000)).data.toString(), "bytes as text \u00e9");
        assert.equal(await websock_send_text(h, ""), 0);
        assert.equal((await recvMessage(h, 10)).data.length, 0);
        assert.equal(await websock_send_frame(h, 1, "frag-", undefined, false), 0);
        assert.equal(await websock_send_frame(h, 0, "mented", undefined, true), 0);
        assert.equal((await recvMessage(h, 100)).data.toString(), "frag-mented");
        await websock_close(h);
        await new Promise((r) => setTimeout(r, 50));
        assert.deepEqual(received.map((m) => m.data.length), [Buffer.byteLength(text), 50000, Buffer.byteLength("bytes as text \u00e9"), 0, 11]);
        assert.ok(read < (text.length + binary.length) / 3, `the client compressed: the server read ${read} bytes for ${text.length + binary.length}`);
      } finally {
        wss.close();
        await new Promise<void>((r) => server.close(() => r()));
      }
    });

    it("without the deflate option nothing is offered and ws sends uncompressed", async () => {
      const server = await startDeflatingServer({});
      try {
        const h = await websock_open({ hostname: "127.0.0.1", port: server.port });
        assert.ok(h);
        assert.equal(websock_get_info(h)!.deflate, undefined);
        assert.ok(!websock_get_info(h)!.headers.some(([n]) => n.toLowerCase() === "sec-websocket-extensions"));
        await websock_send_text(h, "plain");
        assert.equal((await recvMessage(h, 100)).data.toString(), "plain");
        await websock_close(h);
      } finally {
        await server.stop();
      }
    });
  });

  const pythonHasWebsockets = spawnSync("/usr/bin/python3", ["-c", "import websockets"], { stdio: "ignore" }).status === 0;
  for (const noContext of [false, true]) {
    (pythonHasWebsockets ? it : it.skip)(`against python-websockets' server (${noContext ? "server_no_context_takeover" : "context takeover, window 12 or what was asked"})${pythonHasWebsockets ? "" : " (skipped: python3-websockets not installed here; apt-get install python3-websockets)"}`, async () => {
      const child: ChildProcess = spawn("/usr/bin/python3", [new URL("./peers/python-deflate-server.py", import.meta.url).pathname, ...(noContext ? ["no_context"] : [])], { stdio: ["pipe", "pipe", "inherit"] });
      try {
        const port = await new Promise<number>((resolve, reject) => {
          child.once("error", reject);
          child.stdout!.once("data", (d: Buffer) => resolve((JSON.parse(d.toString()) as { port: number }).port));
        });
        const bits = noContext ? 11 : 10;
        const h = await open(port, { server_max_window_bits: bits, server_no_context_takeover: noContext });
        const info = websock_get_info(h)!;
        assert.equal(info.deflate!.server_max_window_bits, bits);
        assert.equal(info.deflate!.server_no_context_takeover, noContext);
        for (const text of ["héllo from websock", telemetry(50000)]) {
          await websock_send_text(h, text);
          assert.equal((await recvMessage(h, 700)).data.toString("utf8"), text);
        }
        await websock_send_text(h, "big");
        const big = await recvMessage(h, 4096);
        const parsed = JSON.parse(big.data.toString()) as unknown[];
        assert.equal(parsed.length, 5000);
        await websock_close(h);
      } finally {
        child.stdin!.end();
        await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
      }
    });
  }

  describe("the server's answer, checked per RFC 7692 §7.1 (websock_open fails with WEBSOCK_ERR_BAD_EXTENSION)", () => {
    let raw: RawServer;
    let answers: string[] = [];
    before(async () => {
      raw = await startRawServer((peer) => {
        const i = Number(/^GET \/(\d+)/.exec(peer.request.text)![1]);
        peer.socket.write(switchingProtocols(peer.request.accept, answers[i]));
      });
    });
    after(() => raw.stop());

    const cases: Array<[string, websock_config_t["deflate"] | undefined, string, RegExp]> = [
      ["an extension that was not offered", {}, "Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n", /x-webkit-deflate-frame", which was not offered/],
      ["permessage-deflate when deflate was not configured", undefined, "Sec-WebSocket-Extensions: permessage-deflate\r\n", /permessage-deflate/],
      ["two extensions", {}, "Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate\r\n", /2 extensions/],
      ["an unknown parameter", {}, "Sec-WebSocket-Extensions: permessage-deflate; mem_level=8\r\n", /unknown parameter: mem_level=8/],
      ["a window larger than asked", { server_max_window_bits: 10 }, "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=11\r\n", /11 is larger than the 10 offered/],
      ["no window when one was asked", { server_max_window_bits: 10 }, "Sec-WebSocket-Extensions: permessage-deflate\r\n", /does not limit the window/],
      ["a window with a leading zero", { server_max_window_bits: 10 }, "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=09\r\n", /integer from 8 to 15, not 09/],
      ["a window of 16", {}, "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=16\r\n", /not 16/],
      ["a parameter twice", {}, "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; server_no_context_takeover\r\n", /appears twice/],
      ["client_max_window_bits, not offered", {}, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10\r\n", /client_max_window_bits was not offered/],
      ["a value on server_no_context_takeover", {}, "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover=1\r\n", /takes none/],
      ["no server_no_context_takeover when asked", { server_no_context_takeover: true }, "Sec-WebSocket-Extensions: permessage-deflate\r\n", /does not include it/],
      ["an unterminated quoted value", {}, "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=\"10\r\n", /unterminated quoted string/],
    ];
    cases.forEach(([what, deflate, header, message], i) => {
      it(`refuses ${what}`, async () => {
        answers[i] = header;
        const h = await websock_open({ hostname: "127.0.0.1", port: raw.port, uri: `/${i}`, ...(deflate !== undefined ? { deflate } : {}) });
        assert.equal(h, null);
        const e = websock_last_error();
        assert.equal(e.name, "WEBSOCK_ERR_BAD_EXTENSION", e.message);
        assert.match(e.message, message);
      });
    });

    it("accepts a quoted window, parameters in any case and order, and client_no_context_takeover added by the server; the offer is what was configured", async () => {
      const i = cases.length;
      answers[i] = "Sec-WebSocket-Extensions: Permessage-Deflate ; client_no_context_takeover; SERVER_MAX_WINDOW_BITS=\"9\"; server_no_context_takeover\r\n";
      const h = await websock_open({ hostname: "127.0.0.1", port: raw.port, uri: `/${i}`, deflate: { server_max_window_bits: 10, server_no_context_takeover: true }, close_timeout: 300 });
      assert.ok(h, websock_last_error().message);
      const request = raw.peers[raw.peers.length - 1].request;
      assert.equal(request.headers.get("sec-websocket-extensions"), "permessage-deflate; server_max_window_bits=10; server_no_context_takeover");
      assert.deepEqual(websock_get_info(h)!.deflate, {
        server_max_window_bits: 9, server_no_context_takeover: true, client_max_window_bits: 15, client_no_context_takeover: true, compressing: false,
      });
      await websock_close(h);
    });

    it("a server that declines (no extension in its answer) leaves the connection uncompressed", async () => {
      const i = cases.length + 1;
      answers[i] = "";
      const h = await websock_open({ hostname: "127.0.0.1", port: raw.port, uri: `/${i}`, deflate: { server_max_window_bits: 9 }, close_timeout: 300 });
      assert.ok(h, websock_last_error().message);
      assert.equal(websock_get_info(h)!.deflate, undefined);
      await websock_close(h);
    });
  });

  it("config: refuses window bits 8 (zlib cannot compress with them), 16, a bad max_inflated_message, an unknown field, and deflate with raw_mode", async () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ server_max_window_bits: 8 }, /deflate.server_max_window_bits is 8.*use 9 to 15/],
      [{ server_max_window_bits: 16 }, /deflate.server_max_window_bits must be an integer from 9 to 15/],
      [{ max_inflated_message: -1 }, /deflate.max_inflated_message must be a non-negative integer/],
      [{ server_no_context_takeover: "yes" }, /deflate.server_no_context_takeover must be a boolean/],
      [{ client_max_window_bits: 10 }, /deflate.client_max_window_bits is not a field of websock_deflate_config_t/],
      [true, /deflate must be a websock_deflate_config_t object/],
      [{ compress: 1 }, /deflate.compress must be a boolean/],
    ];
    for (const [deflate, message] of bad) {
      assert.equal(await websock_open({ hostname: "127.0.0.1", port: 1, deflate } as websock_config_t), null);
      assert.match(websock_last_error().message, message);
    }
    assert.equal(await websock_open({ hostname: "127.0.0.1", port: 1, deflate: {}, raw_mode: true }), null);
    assert.match(websock_last_error().message, /deflate and raw_mode/);
    // Only the client's opening handshake negotiates it: not the server side, nor WS_NOHTTP.
    const socket = new net.Socket();
    assert.equal(await websock_attach_server(socket, WS_BINARY, { deflate: {} }), null);
    assert.match(websock_last_error().message, /negotiated in the client's opening handshake/);
    assert.equal(await websock_attach_client(socket, WS_BINARY | WS_NOHTTP, "/", "localhost", { deflate: {} }), null);
    assert.match(websock_last_error().message, /negotiated in the client's opening handshake/);
    socket.destroy();
  });

  describe("compressed frames no server should send fail the connection with their close code (a raw TCP peer)", () => {
    let crafted: CraftedServer;
    before(async () => {
      crafted = await CraftedServer.start();
    });
    after(() => crafted.stop());
    const agreed = "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=9\r\n";
    const cfg = { deflate: { server_max_window_bits: 9, max_inflated_message: 1 << 20 } };
    const compress = (data: Buffer | string, bits = 9): Buffer => {
      const c = zlib.deflateRawSync(data, { windowBits: bits, finishFlush: zlib.constants.Z_SYNC_FLUSH });
      return c.subarray(0, c.length - 4);
    };

    it("a compressed message, then RSV1 on a continuation frame: 1002", async () => {
      const c = compress("hello, compressed");
      const r = await crafted.run([frame(1, c, { rsv: 4 }), frame(1, c.subarray(0, 3), { rsv: 4, fin: false }), frame(0, c.subarray(3), { rsv: 4 })], { cfg, responseHeaders: agreed });
      assert.equal(r.messages[0].data.toString(), "hello, compressed");
      assertFailed(r, "DEFLATE_RSV1", 1002);
    });

    it("RSV1 on a pong: 1002", async () => {
      const r = await crafted.run([frame(10, "", { rsv: 4 })], { cfg, responseHeaders: agreed });
      assertFailed(r, "DEFLATE_RSV1", 1002);
    });

    it("corrupt DEFLATE data: 1007", async () => {
      const c = Buffer.from(compress(telemetry(2000)));
      c[Math.floor(c.length / 2)] ^= 0xff;
      c[5] = 0xff;
      const r = await crafted.run([frame(2, Buffer.concat([Buffer.from([0x07]), c]), { rsv: 4 })], { cfg, responseHeaders: agreed });
      assertFailed(r, "INFLATE_CORRUPT", 1007);
    });

    it("a back-reference beyond the agreed window of 2^9 bytes: 1007", async () => {
      const noise = pattern(700).map((b, i) => (b * 7 + i * 13) & 0xff);
      const r = await crafted.run([frame(2, compress(Buffer.concat([noise, noise]), 15), { rsv: 4 })], { cfg, responseHeaders: agreed });
      assertFailed(r, "INFLATE_DISTANCE", 1007);
    });

    it("a decompression bomb (64 MiB of zeros in 64 KiB) stops at max_inflated_message with 1009, long before its end", async () => {
      const bomb = compress(Buffer.alloc(64 << 20), 9);
      let delivered = 0;
      const r = await crafted.run([{ chop: 4096, bytes: serverFrameCompressed(2, bomb) }], {
        cfg, responseHeaders: agreed, discard: true, readSize: 4096, onPiece: (p) => (delivered += p.length),
      });
      assertFailed(r, "INFLATED_TOO_BIG", 1009);
      assert.ok(delivered <= 1 << 20, `no more than max_inflated_message was delivered (${delivered})`);
    });
  });
});

/** A server frame with RSV1 set (serverFrame with the compressed bit). */
function serverFrameCompressed(opcode: number, payload: Buffer): Buffer {
  const f = serverFrame(opcode, payload);
  f[0] |= 0x40;
  return f;
}
