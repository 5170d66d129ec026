// The heartbeat (ping_interval, pong_timeout) against real peers on
// 127.0.0.1: the server must actually receive the pings; a missing pong ends
// the connection; a long send to a server that reads does not.

import { strict as assert } from "node:assert";
import net from "node:net";
import {
  WEBSOCK_ERR,
  websock_close,
  websock_get_info,
  websock_last_error,
  websock_msg_hdr_init,
  websock_open,
  websock_recv,
  websock_send_binary,
  type websock_config_t,
  type websock_handle_t,
} from "websock-rfc6455";
import { startRawServer, switchingProtocols } from "./support/raw-server.js";
import { startWsPeer } from "./support/ws-server.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function open(port: number, extra: Partial<websock_config_t>): Promise<websock_handle_t> {
  const h = await websock_open({ hostname: "127.0.0.1", port, ...extra });
  assert.ok(h, websock_last_error().message);
  return h;
}

describe("the heartbeat", () => {
  it("sends a ping every ping_interval that the server receives and answers; the connection stays open", async () => {
    const pings: Buffer[] = [];
    const server = await startWsPeer((ws) => ws.on("ping", (data: Buffer) => pings.push(Buffer.from(data))));
    try {
      const h = await open(server.port, { ping_interval: 40, pong_timeout: 1000 });
      // Keep reading (pongs are consumed inside websock_recv) across several intervals.
      const until = Date.now() + 400;
      while (Date.now() < until) {
        const n = await websock_recv(h, websock_msg_hdr_init(), new Uint8Array(8), 8, 50);
        assert.equal(n, 0, websock_last_error(h).message);
      }
      assert.ok(pings.length >= 4, `the server received ${pings.length} pings`);
      // Each heartbeat carries the next value of a 4-byte counter, so a stale pong cannot pass for a fresh one.
      pings.forEach((p, i) => assert.equal(p.length === 4 ? p.readUInt32BE(0) : -1, i + 1, `ping ${i}`));
      assert.equal(websock_get_info(h)!.state, "OPEN");
      await websock_close(h);
    } finally {
      await server.stop();
    }
  });

  it("ends the connection with PONG_TIMEOUT (1006) when a ping's pong does not come", async () => {
    const raw = await startRawServer((p) => p.socket.write(switchingProtocols(p.request.accept)));
    try {
      const h = await open(raw.port, { ping_interval: 40, pong_timeout: 150 });
      const n = await websock_recv(h, websock_msg_hdr_init(), new Uint8Array(16), 16, 5000);
      assert.equal(n, WEBSOCK_ERR.PONG_TIMEOUT, websock_last_error(h).message);
      assert.equal(websock_last_error(h).close_code, 1006);
      const pings = raw.peers[0].frames().filter((f) => f.opcode === 9);
      assert.equal(pings.length, 1, "one heartbeat at a time: the unanswered one is not followed by more");
      await raw.peers[0].ended;
      await websock_close(h);
    } finally {
      await raw.stop();
    }
  });

  it("a long send to a server that reads slowly does not end in PONG_TIMEOUT: the deadline starts when the ping leaves", async function () {
    this.timeout(30000);
    let got = 0;
    let pings = 0;
    const server = await startWsPeer((ws) => {
      ws.on("message", (data: Buffer) => (got = data.length));
      ws.on("ping", () => pings++);
    });
    // Between the two, a link that carries client-to-server bytes at about 6 MB/s: the send
    // outlasts pong_timeout by far, but it moves all along (the server is reading fine). The
    // ping that leaves websock right after the frame still waits behind what the kernel's socket
    // buffers hold of it (4 MB or more on loopback, depending on how the frame was written):
    // about 0.7 s at this rate, well inside pong_timeout.
    const pongTimeout = 3000;
    const link = await slowLink(server.port, 6 * 1024 * 1024);
    try {
      const h = await open(link.port, { ping_interval: 30, pong_timeout: pongTimeout });
      const started = Date.now();
      const size = 40 * 1024 * 1024;
      assert.equal(await websock_send_binary(h, new Uint8Array(size)), 0, websock_last_error(h).message);
      const took = Date.now() - started;
      // The test means something only if the send outlasted the pong timeout by far: a deadline
      // started when the ping was queued (30 ms in) would have passed long before the send ended.
      assert.ok(took > 1.5 * pongTimeout, `the send took only ${took} ms`);
      // The ping queued behind the frame leaves after it, and its pong comes back.
      const until = Date.now() + pongTimeout + 500;
      while (Date.now() < until) {
        const n = await websock_recv(h, websock_msg_hdr_init(), new Uint8Array(8), 8, 50);
        assert.equal(n, 0, websock_last_error(h).message);
      }
      assert.equal(websock_get_info(h)!.state, "OPEN");
      assert.equal(got, size);
      assert.ok(pings >= 1, "the server received the heartbeat");
      await websock_close(h);
    } finally {
      link.stop();
      await server.stop();
    }
  });
});

/** A TCP relay on 127.0.0.1 to `port` that passes the client's bytes on at about `bytesPerSecond`. */
async function slowLink(port: number, bytesPerSecond: number): Promise<{ port: number; stop(): void }> {
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((client) => {
    const upstream = net.connect(port, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.pipe(client);
    client.on("data", (chunk: Buffer) => {
      upstream.write(chunk);
      client.pause();
      setTimeout(() => client.resume(), Math.ceil((chunk.length / bytesPerSecond) * 1000));
    });
  });
  await new Promise<void>((r) => relay.listen(0, "127.0.0.1", () => r()));
  return {
    port: (relay.address() as net.AddressInfo).port,
    stop: () => {
      for (const s of sockets) s.destroy();
      relay.close();
    },
  };
}
