// Faults, each a real scenario over 127.0.0.1: a server that resets or
// stalls mid-frame, sends one byte at a time, hangs up without a close
// frame, stops answering pings, or reads slowly; and load: 1,000 messages in
// flight both ways at once, 200 connections at once from one process.

import { strict as assert } from "node:assert";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import {
  WEBSOCK_ERR,
  websock_close,
  websock_last_error,
  websock_msg_hdr_init,
  websock_open,
  websock_recv,
  websock_send_binary,
  websock_send_text,
  type websock_config_t,
  type websock_handle_t,
} from "websock-rfc6455";
import { ClientFrameReader, closeFrame, frame, messageBytes } from "./support/frames.js";
import { acceptFor, switchingProtocols } from "./support/raw-server.js";

/** A raw TCP peer: answers the upgrade, then hands the socket and the client's frames (read incrementally) to `behave`. */
interface Peer {
  socket: net.Socket;
  client: ClientFrameReader;
  /** Resolves when the client's side of TCP is gone. */
  ended: Promise<void>;
}

async function startPeer(behave: (peer: Peer) => void | Promise<void>, options: { respond?: boolean } = {}): Promise<{ port: number; peers: Peer[]; stop(): Promise<void> }> {
  const peers: Peer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on("error", () => {});
    const ended = new Promise<void>((resolve) => socket.on("close", () => {
      sockets.delete(socket);
      resolve();
    }));
    let head = Buffer.alloc(0);
    let peer: Peer | null = null;
    socket.on("data", (chunk: Buffer) => {
      if (peer !== null) {
        peer.client.push(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      const key = /^sec-websocket-key:\s*(\S+)/im.exec(head.subarray(0, end).toString("latin1"))?.[1] ?? "";
      peer = { socket, client: new ClientFrameReader(), ended };
      peer.client.push(head.subarray(end + 4));
      peers.push(peer);
      if (options.respond !== false) socket.write(switchingProtocols(acceptFor(key)));
      (socket as net.Socket & { wsKey?: string }).wsKey = key;
      const p = peer;
      void (async () => {
        await behave(p);
        // As a server does (RFC 6455 §7.1.1): once the client's close is in, end TCP first.
        await until(() => p.client.close !== null || socket.destroyed, 3000).catch(() => {});
        if (!socket.destroyed) socket.end();
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    peers,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function open(port: number, extra: Partial<websock_config_t> = {}): Promise<websock_handle_t | null> {
  return websock_open({ hostname: "127.0.0.1", port, rx_buffer_size: 1024, tx_buffer_size: 1024, close_timeout: 2000, ...extra });
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Reads until recv < 0 or a timeout; returns the bytes of each frame and how recv ended. */
async function readAll(h: websock_handle_t, timeout = 3000): Promise<{ frames: Array<{ opcode: number; data: Buffer }>; result: number }> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(1024);
  const frames: Array<{ opcode: number; data: Buffer }> = [];
  let parts: Buffer[] = [];
  for (;;) {
    const n = await websock_recv(h, hdr, buf, 1024, timeout);
    if (n < 0) {
      if (frames.length > 0) frames[frames.length - 1].data = Buffer.concat(parts);
      return { frames, result: n };
    }
    assert.ok(hdr.opcode >= 0, "recv timed out: the client hangs");
    if (hdr.offset === 0) {
      if (frames.length > 0) frames[frames.length - 1].data = Buffer.concat(parts);
      frames.push({ opcode: hdr.opcode, data: Buffer.alloc(0) });
      parts = [];
    }
    parts.push(Buffer.from(buf.subarray(0, n)));
  }
}

describe("faults: the server misbehaves mid-stream", () => {
  it("reports the server's reset mid-frame as an I/O failure (1006), after delivering only bytes it sent", async () => {
    const data = messageBytes("binary", 10000);
    const peer = await startPeer(async (p) => {
      p.socket.write(frame(2, data).subarray(0, 4 + 3000));
      await new Promise((r) => setTimeout(r, 30));
      p.socket.resetAndDestroy();
    });
    try {
      const h = await open(peer.port);
      assert.ok(h);
      const started = Date.now();
      const r = await readAll(h);
      assert.ok(Date.now() - started < 2000);
      const e = websock_last_error(h);
      assert.equal(r.result, WEBSOCK_ERR.IO, `${e.name}: ${e.message}`);
      assert.equal(e.close_code, 1006);
      assert.match(e.message, /ECONNRESET/);
      const got = r.frames[0]?.data ?? Buffer.alloc(0);
      assert.ok(got.length <= 3000 && got.equals(data.subarray(0, got.length)), "delivered bytes the server never sent");
      await websock_close(h);
    } finally {
      await peer.stop();
    }
  });

  it("waits out a server that stalls mid-frame: recv times out, then continues where it stopped", async () => {
    const data = messageBytes("text", 5000);
    const whole = frame(1, data);
    let resume!: () => void;
    const resumed = new Promise<void>((r) => (resume = r));
    const peer = await startPeer(async (p) => {
      p.socket.write(whole.subarray(0, 4 + 2001)); // the cut falls inside a multi-byte character
      await resumed;
      p.socket.write(Buffer.concat([whole.subarray(4 + 2001), closeFrame(1000)]));
    });
    try {
      const h = await open(peer.port);
      assert.ok(h);
      const hdr = websock_msg_hdr_init();
      const buf = new Uint8Array(1024);
      const parts: Buffer[] = [];
      let timeouts = 0;
      let offsetAfterStall = -1;
      for (;;) {
        const n = await websock_recv(h, hdr, buf, 1024, 100);
        assert.ok(n >= 0, websock_last_error(h).message);
        if (hdr.opcode < 0) {
          timeouts++;
          assert.equal(n, 0);
          resume();
          continue;
        }
        if (timeouts > 0 && offsetAfterStall < 0) offsetAfterStall = hdr.offset;
        assert.equal(hdr.payload_len, 5000);
        assert.equal(hdr.offset, parts.reduce((s, p) => s + p.length, 0), "the piece continues exactly where the last one stopped");
        parts.push(Buffer.from(buf.subarray(0, n)));
        if (hdr.bytesleft === 0) break;
      }
      assert.ok(timeouts >= 1, "recv never timed out during the stall");
      assert.ok(offsetAfterStall > 0 && offsetAfterStall <= 2001);
      assert.ok(Buffer.concat(parts).equals(data));
      assert.equal((await readAll(h)).result, WEBSOCK_ERR.CLOSED_BY_PEER);
      await websock_close(h);
    } finally {
      await peer.stop();
    }
  });

  it("opens and receives everything from a server that writes one byte at a time, its 101 included", async () => {
    const frames = Buffer.concat([frame(1, "κόσμε"), frame(2, messageBytes("binary", 300)), frame(9, "ping"), frame(1, "frag", { fin: false }), frame(0, "ment"), closeFrame(1001, "going")]);
    const peer = await startPeer(async (p) => {
      const key = (p.socket as net.Socket & { wsKey?: string }).wsKey!;
      const all = Buffer.concat([Buffer.from(switchingProtocols(acceptFor(key))), frames]);
      for (let i = 0; i < all.length && !p.socket.destroyed; i++) {
        p.socket.write(all.subarray(i, i + 1));
        await new Promise((r) => setImmediate(r));
      }
    }, { respond: false });
    try {
      const h = await open(peer.port);
      assert.ok(h, websock_last_error().message);
      const r = await readAll(h);
      assert.deepEqual(r.frames.map((f) => [f.opcode, f.data.toString("hex")]), [
        [1, Buffer.from("κόσμε").toString("hex")],
        [2, messageBytes("binary", 300).toString("hex")],
        [1, Buffer.from("frag").toString("hex")],
        [0, Buffer.from("ment").toString("hex")],
      ]);
      assert.equal(r.result, WEBSOCK_ERR.CLOSED_BY_PEER);
      assert.equal(websock_last_error(h).close_code, 1001);
      assert.equal(websock_last_error(h).close_reason, "going");
      await websock_close(h);
      assert.deepEqual(peer.peers[0].client.pongs.map((p) => p.toString()), ["ping"]);
      assert.equal(peer.peers[0].client.close?.code, 1001);
    } finally {
      await peer.stop();
    }
  });

  for (const [where, bytes, detail] of [
    ["between messages", Buffer.concat([frame(1, "complete")]), /without a close frame/],
    ["mid-frame", Buffer.concat([frame(1, "complete"), frame(2, messageBytes("binary", 4000)).subarray(0, 1000)]), /middle of a frame/],
    ["mid-header", Buffer.concat([frame(1, "complete"), Buffer.from([0x82, 126, 0x10])]), /middle of a frame/],
    ["between the fragments of a message", Buffer.concat([frame(1, "complete"), frame(1, "frag", { fin: false })]), /middle of a frame or message/],
  ] as const) {
    it(`reports 1006 when the server closes TCP without a close frame ${where}`, async () => {
      const peer = await startPeer((p) => {
        p.socket.end(bytes);
      });
      try {
        const h = await open(peer.port);
        assert.ok(h);
        const r = await readAll(h);
        assert.equal(r.frames[0].data.toString(), "complete");
        assert.equal(r.result, WEBSOCK_ERR.CONNECTION_LOST);
        const e = websock_last_error(h);
        assert.equal(e.close_code, 1006);
        assert.match(e.message, detail);
        await websock_close(h);
        assert.equal(peer.peers[0].client.close, null, "no close frame to a server that is gone");
      } finally {
        await peer.stop();
      }
    });
  }

  it("fails open with HANDSHAKE_EOF when the server closes TCP in the middle of its 101", async () => {
    const peer = await startPeer((p) => {
      const key = (p.socket as net.Socket & { wsKey?: string }).wsKey!;
      p.socket.end(switchingProtocols(acceptFor(key)).slice(0, 40));
    }, { respond: false });
    try {
      assert.equal(await open(peer.port), null);
      assert.equal(websock_last_error().name, "WEBSOCK_ERR_HANDSHAKE_EOF");
    } finally {
      await peer.stop();
    }
  });

  it("fires pong_timeout (1006) when the server stops answering heartbeat pings", async () => {
    let answered = 0;
    const peer = await startPeer(async (p) => {
      // Answer the first two heartbeats, then go silent (but keep TCP open).
      while (answered < 2 && !p.socket.destroyed) {
        await until(() => p.client.pings.length > answered, 2000).catch(() => {});
        if (p.client.pings.length > answered) p.socket.write(frame(10, p.client.pings[answered++]));
      }
    });
    try {
      const h = await open(peer.port, { ping_interval: 40, pong_timeout: 150 });
      assert.ok(h);
      const started = Date.now();
      const r = await readAll(h, 3000);
      const took = Date.now() - started;
      assert.equal(r.result, WEBSOCK_ERR.PONG_TIMEOUT, websock_last_error(h).message);
      assert.equal(websock_last_error(h).close_code, 1006);
      assert.equal(answered, 2);
      assert.ok(took >= 2 * 40 + 150 && took < 2000, `pong_timeout fired after ${took} ms`);
      await peer.peers[0].ended; // the client dropped the connection
      await websock_close(h);
    } finally {
      await peer.stop();
    }
  });
});

describe("faults: load and backpressure", () => {
  it("loses and reorders nothing when the server reads slowly: sends wait for TCP, then all arrive in order", async function () {
    this.timeout(30000);
    let resume!: () => void;
    const resumed = new Promise<void>((r) => (resume = r));
    const peer = await startPeer(async (p) => {
      p.socket.pause();
      await resumed;
      p.socket.resume();
    });
    try {
      const h = await open(peer.port);
      assert.ok(h);
      const count = 1500;
      const payloads = Array.from({ length: count }, (_, i) => {
        const body = messageBytes("binary", 1000 + ((i * 7919) % 9000));
        body.writeUInt32BE(i, 0);
        return body;
      });
      let done = 0;
      const sends = payloads.map((p, i) => (i % 3 === 0 ? websock_send_text(h, `text ${i}`) : websock_send_binary(h, p)).then((code) => {
        done++;
        return code;
      }));
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(done < count, "every send completed while the server was not reading: no backpressure reached the caller");
      const stalledAt = done;
      resume();
      assert.deepEqual(new Set(await Promise.all(sends)), new Set([0]));
      const client = peer.peers[0].client;
      await until(() => client.messages.length === count, 10000);
      for (let i = 0; i < count; i++) {
        const m = client.messages[i];
        if (i % 3 === 0) assert.equal(m.data.toString(), `text ${i}`, `message ${i}`);
        else assert.ok(m.opcode === 2 && m.data.equals(payloads[i]), `message ${i} lost, reordered or changed`);
      }
      assert.deepEqual(client.problems, []);
      assert.ok(stalledAt > 0, "nothing was sent before the stall");
      await websock_close(h);
    } finally {
      await peer.stop();
    }
  });

  it("holds the server back while the application does not read: what it sent waits in TCP, not in the client, then all arrives in order", async function () {
    this.timeout(30000);
    // 32 MiB: more than the kernel's socket buffers on both sides hold, so a client that kept
    // reading while the application did not would take it all off the server (bufferedAmount 0).
    const count = 128;
    const size = 256 * 1024;
    const httpServer = http.createServer();
    const wss = new WebSocketServer({ server: httpServer });
    let server: import("ws").WebSocket | null = null;
    wss.on("connection", (ws) => {
      server = ws;
      for (let i = 0; i < count; i++) {
        const body = messageBytes("binary", size);
        body.writeUInt32BE(i, 0);
        ws.send(body, { binary: true });
      }
    });
    await new Promise<void>((r) => httpServer.listen(0, "127.0.0.1", r));
    const port = (httpServer.address() as AddressInfo).port;
    try {
      const h = await open(port, { rx_buffer_size: 4096 });
      assert.ok(h, websock_last_error().message);
      await until(() => server !== null);
      // The application reads nothing for a while: the client's rx buffer fills, and then its socket stops reading.
      await new Promise((r) => setTimeout(r, 500));
      const held = server!.bufferedAmount;
      assert.ok(held > 8 * 1048576, `the server could hand over all but ${held} bytes while nothing was read: the client did not hold it back`);
      const hdr = websock_msg_hdr_init();
      const buf = new Uint8Array(65536);
      let index = 0;
      let length = 0;
      let first = Buffer.alloc(0);
      while (index < count) {
        const n = await websock_recv(h, hdr, buf, buf.length, 5000);
        assert.ok(n >= 0 && hdr.opcode >= 0, `recv: ${n} ${websock_last_error(h).message}`);
        if (hdr.offset === 0) first = Buffer.from(buf.subarray(0, 4));
        length += n;
        if (hdr.fin && hdr.bytesleft === 0) {
          assert.equal(first.readUInt32BE(0), index, "a message lost or out of order");
          assert.equal(length, size, `message ${index}'s length`);
          index++;
          length = 0;
        }
      }
      assert.equal(server!.bufferedAmount, 0);
      await websock_close(h);
    } finally {
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => httpServer.close(r));
    }
  });

  it("carries 1,000 messages in flight in both directions at once, each direction in order", async function () {
    this.timeout(30000);
    const httpServer = http.createServer();
    const wss = new WebSocketServer({ server: httpServer });
    wss.on("connection", (ws) => {
      ws.on("message", (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
      // The server's own stream, sent at once while the client's messages arrive.
      for (let i = 0; i < 1000; i++) ws.send(i % 2 === 0 ? `server ${i} ${"s".repeat(i % 50)}` : Buffer.concat([Buffer.from(`server ${i}`), messageBytes("binary", i * 3)]), { binary: i % 2 === 1 });
    });
    await new Promise<void>((r) => httpServer.listen(0, "127.0.0.1", r));
    const port = (httpServer.address() as AddressInfo).port;
    try {
      const h = await open(port);
      assert.ok(h);
      const sends = Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? websock_send_text(h, `client ${i} ${"c".repeat(i % 70)}`) : websock_send_binary(h, Buffer.concat([Buffer.from(`client ${i}`), messageBytes("binary", i * 5)]))));
      const fromServer: string[] = [];
      const echoes: string[] = [];
      const hdr = websock_msg_hdr_init();
      const buf = new Uint8Array(1024);
      let current: Buffer[] = [];
      let opcode = 0;
      while (fromServer.length + echoes.length < 2000) {
        const n = await websock_recv(h, hdr, buf, 1024, 5000);
        assert.ok(n >= 0 && hdr.opcode >= 0, `recv: ${n} ${websock_last_error(h).message}`);
        if (hdr.offset === 0 && hdr.opcode !== 0) {
          current = [];
          opcode = hdr.opcode;
        }
        current.push(Buffer.from(buf.subarray(0, n)));
        if (hdr.fin && hdr.bytesleft === 0) {
          const m = Buffer.concat(current);
          const label = m.subarray(0, 20).toString("latin1");
          (label.startsWith("server") ? fromServer : echoes).push(`${opcode}:${m.toString("hex")}`);
        }
      }
      assert.deepEqual(new Set(await Promise.all(sends)), new Set([0]));
      for (let i = 0; i < 1000; i++) {
        const s = i % 2 === 0 ? `1:${Buffer.from(`server ${i} ${"s".repeat(i % 50)}`).toString("hex")}` : `2:${Buffer.concat([Buffer.from(`server ${i}`), messageBytes("binary", i * 3)]).toString("hex")}`;
        assert.equal(fromServer[i], s, `server message ${i}`);
        const c = i % 2 === 0 ? `1:${Buffer.from(`client ${i} ${"c".repeat(i % 70)}`).toString("hex")}` : `2:${Buffer.concat([Buffer.from(`client ${i}`), messageBytes("binary", i * 5)]).toString("hex")}`;
        assert.equal(echoes[i], c, `echo ${i}`);
      }
      await websock_close(h);
    } finally {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise<void>((r) => httpServer.close(() => r()));
    }
  });

  it("opens 200 connections at once from one process, echoes on each, and closes them all cleanly", async function () {
    this.timeout(30000);
    const httpServer = http.createServer();
    const wss = new WebSocketServer({ server: httpServer, backlog: 512 } as ConstructorParameters<typeof WebSocketServer>[0]);
    const closes: number[] = [];
    wss.on("connection", (ws) => {
      ws.on("message", (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
      ws.on("close", (code) => closes.push(code));
    });
    await new Promise<void>((r) => httpServer.listen({ port: 0, host: "127.0.0.1", backlog: 512 }, r));
    const port = (httpServer.address() as AddressInfo).port;
    try {
      const handles = await Promise.all(Array.from({ length: 200 }, () => open(port, { time_out: 10000 })));
      assert.equal(handles.filter((h) => h === null).length, 0, websock_last_error().message);
      assert.equal(wss.clients.size, 200);
      const echoes = await Promise.all(handles.map(async (h, i) => {
        assert.equal(await websock_send_text(h!, `connection ${i}`), 0);
        const hdr = websock_msg_hdr_init();
        const buf = new Uint8Array(64);
        const n = await websock_recv(h!, hdr, buf, 64, 5000);
        return n > 0 ? Buffer.from(buf.subarray(0, n)).toString() : `recv ${n}`;
      }));
      assert.deepEqual(echoes, handles.map((_, i) => `connection ${i}`));
      await Promise.all(handles.map((h) => websock_close(h!)));
      await until(() => closes.length === 200, 5000);
      assert.deepEqual(new Set(closes), new Set([1000]));
    } finally {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise<void>((r) => httpServer.close(() => r()));
    }
  });
});
