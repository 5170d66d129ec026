// The edges between the application's timing and a connection's end (issue
// "Nothing lost, nothing hangs"), against real sockets on 127.0.0.1: a late
// reader still gets the server's close, sends issued before websock_close go
// out before the close frame, detach hands back what followed the close, a
// reset does not take away what already arrived, and every wait ends.

import { strict as assert } from "node:assert";
import net from "node:net";
import type { WebSocket } from "ws";
import {
  WEBSOCK_ERR,
  WEBSOCK_OP,
  WS_BINARY,
  websock_close,
  websock_attach_client,
  websock_attach_server,
  websock_close_with_code,
  websock_detach,
  websock_last_error,
  websock_msg_hdr_init,
  websock_open,
  websock_ping,
  websock_recv,
  websock_send_binary,
  websock_send_frame,
  websock_send_text,
  websock_set_callback,
  type websock_config_t,
  type websock_handle_t,
} from "websock-rfc6455";
import { closeFrame } from "./support/frames.js";
import { serverFrame, startRawServer, switchingProtocols } from "./support/raw-server.js";
import { eventually, startWsPeer } from "./support/ws-server.js";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Rejects when `p` has not settled within `ms`: a hang is a failure, not a slow pass. */
async function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}

async function open(port: number, extra: Partial<websock_config_t> = {}): Promise<websock_handle_t> {
  const h = await websock_open({ hostname: "127.0.0.1", port, rx_buffer_size: 1024, tx_buffer_size: 1024, ...extra });
  assert.ok(h, websock_last_error().message);
  return h;
}

/** One whole message by websock_recv, or the negative code it ended with. */
async function recvMessage(h: websock_handle_t, timeout = 5000): Promise<{ opcode: number; data: Buffer } | number> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(700);
  const parts: Buffer[] = [];
  let opcode = -1;
  for (;;) {
    const n = await websock_recv(h, hdr, buf, buf.length, timeout);
    if (n < 0) return n;
    if (hdr.opcode < 0) throw new Error("recv timed out");
    if (opcode < 0) opcode = hdr.opcode;
    parts.push(Buffer.from(buf.subarray(0, n)));
    if (hdr.fin && hdr.bytesleft === 0) return { opcode, data: Buffer.concat(parts) };
  }
}

describe("the close path: nothing lost, nothing hangs", () => {
  it("a late reader still gets every message and the server's close (4000 'bye') sent with the FIN in one burst", async () => {
    const raw = await startRawServer((p) => {
      const messages = Array.from({ length: 6 }, (_, i) => serverFrame(1, `message ${i} ${"x".repeat(i * 150)}`));
      p.socket.end(Buffer.concat([Buffer.from(switchingProtocols(p.request.accept)), ...messages, closeFrame(4000, "bye")]));
    });
    try {
      const h = await open(raw.port, { close_timeout: 500 });
      for (let i = 0; i < 6; i++) {
        const m = await recvMessage(h);
        assert.ok(typeof m !== "number", `message ${i}: ${websock_last_error(h).name}`);
        assert.equal(m.data.toString(), `message ${i} ${"x".repeat(i * 150)}`);
        // A little async work per message: the FIN has long arrived by the time the next recv runs.
        await sleep(2);
      }
      assert.equal(await recvMessage(h), WEBSOCK_ERR.CLOSED_BY_PEER);
      const e = websock_last_error(h);
      assert.equal(e.close_code, 4000);
      assert.equal(e.close_reason, "bye");
      await within(2000, websock_close(h), "websock_close");
    } finally {
      await raw.stop();
    }
  });

  it("a closed handle the application still holds lets go of its rx and tx buffers", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const server = await startWsPeer((ws) => ws.on("message", (data) => ws.send(data)));
    try {
      // The buffers are the caller's here only so that the test can watch them: it lets go of its own references.
      let rx: Uint8Array | null = new Uint8Array(4096);
      let tx: Uint8Array | null = new Uint8Array(4096);
      const rxGone = new WeakRef(rx.buffer);
      const txGone = new WeakRef(tx.buffer);
      const h = await open(server.port, { rx_buffer: rx, tx_buffer: tx });
      rx = tx = null;
      assert.equal(await websock_send_text(h, "once"), 0);
      const m = await recvMessage(h);
      assert.ok(typeof m !== "number" && m.data.toString() === "once", "the echo");
      await within(2000, websock_close(h), "websock_close");
      for (let i = 0; i < 5 && (rxGone.deref() !== undefined || txGone.deref() !== undefined); i++) {
        await sleep(10);
        gc();
      }
      assert.equal(rxGone.deref(), undefined, "the rx buffer is still held by the closed handle");
      assert.equal(txGone.deref(), undefined, "the tx buffer is still held by the closed handle");
      assert.ok(h !== null, "the handle is still held");
    } finally {
      await server.stop();
    }
  });

  it("sends issued without awaiting, then websock_close: every one arrives before the close frame", async () => {
    const received: string[] = [];
    let closeCode = 0;
    const server = await startWsPeer((ws) => {
      ws.on("message", (data) => received.push(data.toString()));
      ws.on("close", (code) => (closeCode = code));
    });
    try {
      const h = await open(server.port);
      const sends = Array.from({ length: 200 }, (_, i) => websock_send_text(h, `m${i}`));
      await within(6000, websock_close(h), "websock_close");
      assert.deepEqual(await Promise.all(sends), new Array(200).fill(0));
      await eventually(() => closeCode !== 0);
      assert.equal(received.length, 200);
      assert.deepEqual(received, Array.from({ length: 200 }, (_, i) => `m${i}`));
      assert.equal(closeCode, 1000);
    } finally {
      await server.stop();
    }
  });

  it("websock_close after the application stopped reading an echo server: the queued sends and the close still go through", async () => {
    let received = 0;
    let closeCode = 0;
    const server = await startWsPeer((ws) => {
      ws.on("message", (data, isBinary) => {
        received++;
        ws.send(data, { binary: isBinary });
      });
      ws.on("close", (code) => (closeCode = code));
    });
    try {
      const h = await open(server.port);
      // 2,000 sends of 4 KiB and no reads: the echoes fill both directions' buffers.
      const sends = Array.from({ length: 2000 }, () => websock_send_binary(h, new Uint8Array(4096)));
      await within(4000, websock_close(h), "websock_close");
      assert.deepEqual(await Promise.all(sends), new Array(2000).fill(0));
      await eventually(() => closeCode !== 0);
      assert.equal(received, 2000);
      assert.equal(closeCode, 1000);
    } finally {
      await server.stop();
    }
  });

  it("a 5 MB send issued before websock_close is delivered whole, then the close", async () => {
    let got = -1;
    let closeCode = 0;
    const server = await startWsPeer((ws) => {
      ws.on("message", (data: Buffer) => (got = data.length));
      ws.on("close", (code) => (closeCode = code));
    });
    try {
      const h = await open(server.port);
      const big = websock_send_binary(h, new Uint8Array(5 * 1024 * 1024).fill(7));
      await within(6000, websock_close(h), "websock_close");
      assert.equal(await big, 0);
      await eventually(() => closeCode !== 0);
      assert.equal(got, 5 * 1024 * 1024);
      assert.equal(closeCode, 1000);
    } finally {
      await server.stop();
    }
  });

  it("what cannot be sent within close_timeout fails, and says so; websock_close still ends in time", async () => {
    // The server never reads: a large send cannot finish, and the close waits behind it.
    const raw = await startRawServer((p) => {
      p.socket.write(switchingProtocols(p.request.accept));
      p.socket.pause();
    });
    try {
      const h = await open(raw.port, { close_timeout: 300 });
      const big = websock_send_binary(h, new Uint8Array(64 * 1024 * 1024));
      await within(3000, websock_close(h), "websock_close");
      const code = await within(1000, big, "the pending send");
      assert.equal(code, WEBSOCK_ERR.CLOSE_TIMEOUT);
    } finally {
      await raw.stop();
    }
  });

  it("websock_detach hands back the bytes that came in the same segment as the peer's close", async () => {
    const raw = await startRawServer((p) => {
      p.socket.write(Buffer.concat([Buffer.from(switchingProtocols(p.request.accept)), closeFrame(1000), Buffer.from("plain bytes after the close")]));
    });
    try {
      const h = await open(raw.port);
      // Let the close and what follows it arrive before detaching.
      await eventually(() => raw.peers[0].frames().some((f) => f.opcode === 8));
      const socket = (await within(3000, websock_detach(h), "websock_detach")) as net.Socket;
      assert.ok(socket instanceof net.Socket, websock_last_error(h).message);
      const got = await within(2000, new Promise<string>((r) => {
        socket.once("data", (d) => r(d.toString()));
        socket.resume();
      }), "the bytes after the close");
      assert.equal(got, "plain bytes after the close");
      socket.destroy();
    } finally {
      await raw.stop();
    }
  });

  it("a reset in the middle of a message: what already arrived is delivered, then the error (1006)", async () => {
    const sent = 49 * 1024;
    const raw = await startRawServer((p) => {
      const head = Buffer.from([0x82, 126, 0xc8, 0x00]); // a binary frame of 50 KiB (51,200 bytes)
      p.socket.write(Buffer.concat([Buffer.from(switchingProtocols(p.request.accept)), head, Buffer.alloc(sent, 5)]));
      setTimeout(() => p.socket.resetAndDestroy(), 300);
    });
    try {
      const h = await open(raw.port);
      await sleep(500);
      const hdr = websock_msg_hdr_init();
      const buf = new Uint8Array(4096);
      let total = 0;
      let n: number;
      for (;;) {
        n = await websock_recv(h, hdr, buf, buf.length, 3000);
        if (n < 0) break;
        assert.ok(hdr.opcode >= 0, "no timeout: the end must come");
        total += n;
      }
      assert.equal(total, sent, "every byte that arrived before the reset");
      assert.ok(n === WEBSOCK_ERR.IO || n === WEBSOCK_ERR.CONNECTION_LOST, websock_last_error(h).name);
      assert.equal(websock_last_error(h).close_code, 1006);
      await within(2000, websock_close(h), "websock_close");
    } finally {
      await raw.stop();
    }
  });

  it("under randomized application delays, every message, the close code and websock_close come through (stress)", async function () {
    this.timeout(60000);
    let seed = 12345;
    const random = (n: number): number => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
    let scenario: { messages: string[]; code: number } = { messages: [], code: 4000 };
    const raw = await startRawServer((p) => {
      const { messages, code } = scenario;
      const frames = messages.map((m) => serverFrame(1, m));
      // The messages, the close and the FIN in one write: one burst.
      p.socket.end(Buffer.concat([Buffer.from(switchingProtocols(p.request.accept)), ...frames, closeFrame(code, "bye")]));
    });
    const deadline = Date.now() + 15000;
    let runs = 0;
    try {
      for (; runs < 2000 && Date.now() < deadline; runs++) {
        const count = random(12);
        scenario = { messages: Array.from({ length: count }, (_, i) => `${runs}.${i} ` + "y".repeat(random(2500))), code: 4000 + random(999) };
        const h = await open(raw.port, { rx_buffer_size: 256 + random(4000), close_timeout: 1000 });
        for (const want of scenario.messages) {
          const m = await recvMessage(h);
          assert.ok(typeof m !== "number", `run ${runs}: ended with ${websock_last_error(h).name} before all messages`);
          assert.equal(m.data.toString(), want);
          const delay = random(6);
          if (delay > 0) await sleep(delay);
          // Sometimes answer, as an echo client would: the send must settle, whatever its outcome.
          if (random(3) === 0) await within(2000, websock_send_text(h, "echo"), "an echo send");
        }
        assert.equal(await recvMessage(h), WEBSOCK_ERR.CLOSED_BY_PEER, `run ${runs}: ${websock_last_error(h).message}`);
        assert.equal(websock_last_error(h).close_code, scenario.code);
        await within(2000, websock_close(h), `run ${runs}: websock_close`);
      }
    } finally {
      await raw.stop();
    }
    assert.ok(runs >= 200, `only ${runs} runs`);
  });
});

describe("inputs the API refuses (every call returns its code)", () => {
  it("raw mode refuses pings and pongs instead of injecting a frame into the stream", async () => {
    const raw = await startRawServer((p) => p.socket.write(switchingProtocols(p.request.accept)));
    try {
      const h = await open(raw.port, { raw_mode: true });
      assert.equal(await websock_ping(h, "x"), WEBSOCK_ERR.INVALID_ARG);
      assert.equal(await websock_send_frame(h, WEBSOCK_OP.PING, "x", undefined, true), WEBSOCK_ERR.INVALID_ARG);
      assert.equal(await websock_send_frame(h, WEBSOCK_OP.PONG, "x", undefined, true), WEBSOCK_ERR.INVALID_ARG);
      await sleep(50);
      assert.equal(raw.peers[0].received().length, 0, "nothing was written to the raw stream");
      await websock_close(h);
    } finally {
      await raw.stop();
    }
  });

  it("close codes are integers: '1000' and 1000.5 are refused and the connection stays open", async () => {
    const server = await startWsPeer((ws) => ws.on("message", (d, isBinary) => ws.send(d, { binary: isBinary })));
    try {
      const h = await open(server.port);
      assert.equal(await websock_close_with_code(h, "1000" as unknown as number), WEBSOCK_ERR.INVALID_ARG);
      assert.equal(await websock_close_with_code(h, 1000.5), WEBSOCK_ERR.INVALID_ARG);
      assert.equal(await websock_send_text(h, "still open"), 0);
      const m = await recvMessage(h);
      assert.ok(typeof m !== "number");
      assert.equal(m.data.toString(), "still open");
      assert.equal(await websock_close_with_code(h, 4001, "done"), 0);
    } finally {
      await server.stop();
    }
  });

  it("websock_attach_* with a hostile config (a throwing getter, a Proxy) returns null with INVALID_ARG, never throws", async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
    const client = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
    const socket = await accepted;
    try {
      const getter = { get rx_buffer_size(): number { throw new Error("boom"); } };
      const proxy = new Proxy({}, { ownKeys: () => { throw new Error("trap"); }, get: () => { throw new Error("trap"); } });
      for (const cfg of [getter, proxy]) {
        assert.equal(await websock_attach_server(socket, WS_BINARY, cfg as never), null);
        assert.equal(websock_last_error().name, "WEBSOCK_ERR_INVALID_ARG", websock_last_error().message);
        assert.equal(await websock_attach_client(socket, WS_BINARY, "/", "localhost", cfg as never), null);
        assert.equal(websock_last_error().name, "WEBSOCK_ERR_INVALID_ARG", websock_last_error().message);
      }
    } finally {
      socket.destroy();
      client.destroy();
      server.close();
    }
  });

  it("a callback set after websock_recv read a whole frame gets the frames that follow", async () => {
    let peer: WebSocket | null = null;
    const server = await startWsPeer((ws) => {
      peer = ws;
      ws.send("first");
      ws.send("second");
    });
    try {
      const h = await open(server.port);
      const m = await recvMessage(h);
      assert.ok(typeof m !== "number");
      assert.equal(m.data.toString(), "first");
      const got: string[] = [];
      assert.equal(websock_set_callback(h, (_h, hdr, data) => {
        if (hdr.opcode >= 0) got.push(Buffer.from(data).toString());
      }), 0);
      await eventually(() => peer !== null);
      peer!.send("third");
      await eventually(() => got.length === 2);
      assert.deepEqual(got, ["second", "third"]);
      await websock_close(h);
    } finally {
      await server.stop();
    }
  });

  it("a frozen hdr is refused with INVALID_ARG, and the piece waits for a usable one", async () => {
    const server = await startWsPeer((ws) => ws.send("waiting"));
    try {
      const h = await open(server.port);
      const frozen = Object.freeze(websock_msg_hdr_init());
      const buf = new Uint8Array(64);
      assert.equal(await websock_recv(h, frozen, buf, 64, 1000), WEBSOCK_ERR.INVALID_ARG);
      const m = await recvMessage(h);
      assert.ok(typeof m !== "number");
      assert.equal(m.data.toString(), "waiting");
      await websock_close(h);
    } finally {
      await server.stop();
    }
  });

  it("a websock_recv timeout above 2^31-1 ms waits without a timer storm and still returns the message", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.name);
    };
    process.on("warning", onWarning);
    let peer: WebSocket | null = null;
    const server = await startWsPeer((ws) => (peer = ws));
    try {
      const h = await open(server.port);
      const hdr = websock_msg_hdr_init();
      const buf = new Uint8Array(64);
      const pending = websock_recv(h, hdr, buf, 64, 2 ** 40);
      await sleep(200);
      assert.deepEqual(warnings, [], "no TimeoutOverflowWarning");
      await eventually(() => peer !== null);
      peer!.send("late");
      const n = await within(3000, pending, "websock_recv");
      assert.equal(Buffer.from(buf.subarray(0, n)).toString(), "late");
      await websock_close(h);
    } finally {
      process.off("warning", onWarning);
      await server.stop();
    }
  });
});
