// Interop with the WebSocket implementations npm installs (no system package
// needed): faye-websocket and the `websocket` package, each as a server for
// our client and as a client of our server side (tools/lib/echo-server.ts),
// and Node's own WebSocket client (undici's, global since Node 22; behind
// --experimental-websocket on Node 20) against our server side. The ws
// package is the peer of test/integration.test.ts and test/server.test.ts.

import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import websocketPackage from "websocket";
import {
  WEBSOCK_ERR,
  WEBSOCK_OP,
  websock_close,
  websock_close_with_code,
  websock_last_error,
  websock_msg_hdr_init,
  websock_open,
  websock_ping,
  websock_recv,
  websock_send_binary,
  websock_send_text,
  type websock_handle_t,
} from "websock-rfc6455";
import { startEchoServer, type EchoServer } from "../tools/lib/echo-server.js";
import { eventually } from "./support/ws-server.js";

// faye-websocket ships no types: the little of its API used here.
interface FayeSocket {
  protocol: string;
  send(data: string | Buffer): boolean;
  ping(message: string, callback: () => void): boolean;
  close(code?: number, reason?: string): void;
  on(event: "open", listener: () => void): void;
  on(event: "message", listener: (e: { data: string | Buffer }) => void): void;
  on(event: "close", listener: (e: { code: number; reason: string }) => void): void;
  on(event: "error", listener: (e: { message: string }) => void): void;
}
interface Faye {
  new (request: http.IncomingMessage, socket: Duplex, head: Buffer, protocols?: string[]): FayeSocket;
  Client: new (url: string, protocols?: string[], options?: { maxLength?: number }) => FayeSocket;
}
const FayeWebSocket = createRequire(import.meta.url)("faye-websocket") as Faye;

const { client: WebSocketClient, server: WebSocketServer } = websocketPackage;

function pattern(n: number): Buffer {
  return Buffer.from(new Uint8Array(n).map((_, i) => (i * 13 + 5) & 0xff));
}

/** One whole message through our client, however many pieces it takes (1 KiB buffer). */
async function recvMessage(h: websock_handle_t): Promise<{ opcode: number; data: Buffer }> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(1024);
  const parts: Buffer[] = [];
  let opcode = -1;
  for (;;) {
    const n = await websock_recv(h, hdr, buf, buf.length, 5000);
    if (n < 0) throw new Error(`recv: ${websock_last_error(h).message}`);
    if (hdr.opcode < 0) throw new Error("recv timed out");
    if (opcode < 0) opcode = hdr.opcode;
    parts.push(Buffer.from(buf.subarray(0, n)));
    if (hdr.fin && hdr.bytesleft === 0) return { opcode, data: Buffer.concat(parts) };
  }
}

/** An HTTP server on 127.0.0.1 that hands each upgrade to `onUpgrade`; stop() ends every socket. */
async function listen(setup: (server: http.Server) => void): Promise<{ port: number; stop(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const sockets = new Set<Duplex>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  setup(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** What a peer server saw: the close each client sent. */
interface PeerServer {
  port: number;
  closes: Array<{ code: number; reason: string }>;
  stop(): Promise<void>;
}

/**
 * Routes, the same for each peer server: /echo echoes every message with its
 * type; /close4001 closes with 4001 "peer says bye" as soon as it opens.
 */
async function startFayeServer(): Promise<PeerServer> {
  const closes: PeerServer["closes"] = [];
  const l = await listen((server) =>
    server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const ws = new FayeWebSocket(req, socket, head, ["chat"]);
      ws.on("close", (e) => closes.push({ code: e.code, reason: e.reason }));
      // faye answers the handshake on "open": a close before it would only drop TCP.
      if (req.url === "/close4001") ws.on("open", () => ws.close(4001, "peer says bye"));
      else ws.on("message", (e) => ws.send(e.data));
    }),
  );
  return { ...l, closes };
}

async function startWebsocketPackageServer(): Promise<PeerServer> {
  const closes: PeerServer["closes"] = [];
  const l = await listen((server) => {
    const wss = new WebSocketServer({ httpServer: server, maxReceivedFrameSize: 1 << 20, maxReceivedMessageSize: 1 << 20 });
    wss.on("request", (req) => {
      const conn = req.accept(req.requestedProtocols[0] ?? null, req.origin);
      conn.on("close", (code, reason) => closes.push({ code, reason }));
      if (req.resource === "/close4001") conn.close(4001, "peer says bye");
      else conn.on("message", (m) => (m.type === "utf8" ? conn.sendUTF(m.utf8Data) : conn.sendBytes(m.binaryData)));
    });
  });
  return { ...l, closes };
}

const PEER_SERVERS: Array<[string, () => Promise<PeerServer>]> = [
  ["faye-websocket's server", startFayeServer],
  ["the websocket package's server", startWebsocketPackageServer],
];

for (const [peer, start] of PEER_SERVERS) {
  describe(`our client against ${peer}`, function () {
    let server: PeerServer;
    before(async () => {
      server = await start();
    });
    after(() => server.stop());

    it("echoes text and binary from 0 B to 200 KiB through 1 KiB buffers, with a ping between, and closes with 1000", async function () {
      const h = await websock_open({ hostname: "127.0.0.1", port: server.port, uri: "/echo", subprotocols: ["chat"], rx_buffer_size: 1024, tx_buffer_size: 1024 });
      assert.ok(h, websock_last_error().message);
      for (const size of [0, 125, 126, 65535, 65536, 200 * 1024]) {
        const payload = pattern(size);
        assert.equal(await websock_send_binary(h, payload), 0);
        const m = await recvMessage(h);
        assert.equal(m.opcode, WEBSOCK_OP.BINARY);
        assert.ok(m.data.equals(payload), `binary ${size}`);
        const text = "ab€𝄞".repeat(size / 10);
        assert.equal(await websock_send_text(h, text), 0);
        const t = await recvMessage(h);
        assert.equal(t.opcode, WEBSOCK_OP.TEXT);
        assert.equal(t.data.toString(), text);
      }
      // The peer answers our ping with a pong, which websock_recv consumes; the next echo still arrives.
      assert.equal(await websock_ping(h, "ping?"), 0);
      assert.equal(await websock_send_text(h, "after the ping"), 0);
      assert.equal((await recvMessage(h)).data.toString(), "after the ping");
      const before = server.closes.length;
      await websock_close(h);
      await eventually(() => server.closes.length > before);
      assert.equal(server.closes[before].code, 1000);
    });

    it("sends our close code and reason (4002)", async function () {
      const h = await websock_open({ hostname: "127.0.0.1", port: server.port, uri: "/echo" });
      assert.ok(h, websock_last_error().message);
      const before = server.closes.length;
      assert.equal(await websock_close_with_code(h, 4002, "websock leaves"), 0);
      await eventually(() => server.closes.length > before);
      assert.deepEqual(server.closes[before], { code: 4002, reason: "websock leaves" });
    });

    it("reports the peer's close code and reason (4001)", async function () {
      const h = await websock_open({ hostname: "127.0.0.1", port: server.port, uri: "/close4001" });
      assert.ok(h, websock_last_error().message);
      const hdr = websock_msg_hdr_init();
      const buf = new Uint8Array(256);
      assert.equal(await websock_recv(h, hdr, buf, buf.length, 5000), WEBSOCK_ERR.CLOSED_BY_PEER);
      const e = websock_last_error(h);
      assert.equal(e.close_code, 4001);
      assert.equal(e.close_reason, "peer says bye");
      await websock_close(h);
    });
  });
}

describe("clients from npm against our server side (websock_attach_server)", function () {
  let echo: EchoServer;
  before(async () => {
    echo = await startEchoServer(0, { subprotocols: ["chat.v2", "chat.v1"] });
  });
  after(() => echo.stop());

  it("serves the faye-websocket client: text, 100 KiB binary, ping, close code both ways", async function () {
    const ws = new FayeWebSocket.Client(`ws://127.0.0.1:${echo.port}/faye`, ["chat.v1"], { maxLength: 1 << 20 });
    const received: Array<string | Buffer> = [];
    ws.on("message", (e) => received.push(e.data));
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on("close", r));
    await new Promise<void>((r, j) => {
      ws.on("open", r);
      ws.on("error", (e) => j(new Error(e.message)));
    });
    assert.equal(ws.protocol, "chat.v1");
    ws.send("héllo from faye");
    ws.send(pattern(100 * 1024));
    await new Promise<void>((r) => ws.ping("faye-ping", r));
    await eventually(() => received.length === 2);
    assert.equal(received[0], "héllo from faye");
    assert.ok(Buffer.isBuffer(received[1]) && received[1].equals(pattern(100 * 1024)));
    ws.close(4003, "faye says bye");
    assert.equal((await closed).code, 4003);
  });

  it("serves the websocket package's client: text, binary, a message in 7 fragments, ping, close code both ways", async function () {
    const client = new WebSocketClient({ fragmentOutgoingMessages: true, fragmentationThreshold: 16, maxReceivedFrameSize: 1 << 20, maxReceivedMessageSize: 1 << 20 });
    const conn = await new Promise<websocketPackage.connection>((r, j) => {
      client.once("connect", r);
      client.once("connectFailed", j);
      client.connect(`ws://127.0.0.1:${echo.port}/websocket`, ["chat.v1"]);
    });
    assert.equal(conn.protocol, "chat.v1");
    const received: websocketPackage.Message[] = [];
    conn.on("message", (m) => received.push(m));
    const long = "fragmented ".repeat(10); // 110 bytes: 7 frames of at most 16
    conn.sendUTF("héllo from websocket");
    conn.sendBytes(pattern(5000));
    conn.sendUTF(long);
    const pong = new Promise<Buffer>((r) => conn.once("pong", r));
    conn.ping(Buffer.from("ws-pkg-ping"));
    assert.equal((await pong).toString(), "ws-pkg-ping");
    await eventually(() => received.length === 3);
    assert.deepEqual(received.map((m) => m.type), ["utf8", "binary", "utf8"]);
    assert.equal(received[0].type === "utf8" && received[0].utf8Data, "héllo from websocket");
    assert.ok(received[1].type === "binary" && received[1].binaryData.equals(pattern(5000)));
    assert.equal(received[2].type === "utf8" && received[2].utf8Data, long);
    const closed = new Promise<number>((r) => conn.once("close", (code) => r(code)));
    conn.close(4004, "websocket package says bye");
    assert.equal(await closed, 4004);
  });

  it("serves Node's own WebSocket client (a child process on this Node)", async function () {
    // Plain JavaScript for the child: its WebSocket is the global one of the Node that runs the tests.
    const script = `
      const ws = new WebSocket(process.argv[1], ["chat.v1"]);
      ws.binaryType = "arraybuffer";
      const seen = { messages: [] };
      const bytes = new Uint8Array(70000).map((_, i) => (i * 13 + 5) & 0xff);
      ws.onopen = () => { seen.protocol = ws.protocol; ws.send("héllo from node"); ws.send(bytes); };
      ws.onmessage = (e) => {
        seen.messages.push(typeof e.data === "string" ? e.data : Buffer.from(e.data).equals(Buffer.from(bytes)) ? "70000 bytes back" : "wrong bytes");
        if (seen.messages.length === 2) ws.close(4005, "node says bye");
      };
      ws.onclose = (e) => { seen.close = [e.code, e.reason]; console.log(JSON.stringify(seen)); };
      ws.onerror = (e) => { console.error("error", e.message); process.exit(1); };`;
    const flags = Number(process.versions.node.split(".")[0]) < 22 ? ["--experimental-websocket"] : [];
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [...flags, "-e", script, `ws://127.0.0.1:${echo.port}/node`], { timeout: 15000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    assert.deepEqual(JSON.parse(out), { protocol: "chat.v1", messages: ["héllo from node", "70000 bytes back"], close: [4005, ""] }); // our server side echoes the code, without the reason
  });
});
