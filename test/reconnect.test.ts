// Reconnect (websock_config_t.reconnect, on_open) against real peers on
// 127.0.0.1: a ws server stopped and restarted on its port, raw servers that
// answer 503 with Retry-After, reset mid-handshake, cut a message, refuse.
// Delays are kept tiny so attempts follow each other quickly; nothing here
// asserts how long anything took. Retry-After is checked on an injected
// clock (a host whose time and timers the test moves by hand).

import { strict as assert } from "node:assert";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import {
  WEBSOCK_ERR,
  WEBSOCK_OP,
  websock_close,
  websock_get_info,
  websock_last_error,
  websock_msg_hdr_init,
  websock_open,
  websock_recv,
  websock_recv_now,
  websock_send_text,
  type websock_config_t,
  type websock_handle_t,
} from "websock-rfc6455";
import { nodeHost } from "../hosts/node/node-host.js";
import type { Host, TimerTarget } from "../src/host.js";
import { useHost } from "../src/registry.js";
import { serverFrame, startRawServer, switchingProtocols, type RawPeer } from "./support/raw-server.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Attempts follow each other within a few ms: the tests are about what happens, not when. */
const FAST = { first_delay: 0, min_delay: 1, max_delay: 5 };

async function until(what: string, ok: () => boolean, limit = 10000): Promise<void> {
  for (let waited = 0; !ok(); waited += 5) {
    if (waited > limit) throw new Error(`never: ${what}`);
    await sleep(5);
  }
}

async function open(port: number, extra: Partial<websock_config_t>): Promise<websock_handle_t> {
  // Raw peers here do not answer a close frame: websock_close waits close_timeout for them.
  const h = await websock_open({ hostname: "127.0.0.1", port, close_timeout: 200, ...extra });
  assert.ok(h, websock_last_error().message);
  return h;
}

/** The next piece as text, with its header; -n codes come back as { n }. */
async function recvText(h: websock_handle_t, timeout = 10000): Promise<{ n: number; text: string; fin: boolean; opcode: number }> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(256);
  for (;;) {
    const n = await websock_recv(h, hdr, buf, buf.length, timeout);
    if (n === 0 && hdr.opcode < 0) continue;
    return { n, text: n > 0 ? Buffer.from(buf.subarray(0, n)).toString() : "", fin: hdr.fin, opcode: hdr.opcode };
  }
}

/** A ws server on `port` (0: any) that records the text messages of each connection in order. */
async function startRecordingServer(port = 0): Promise<{ port: number; connections: string[][]; stop(code?: number): Promise<void> }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const connections: string[][] = [];
  wss.on("connection", (ws) => {
    const got: string[] = [];
    connections.push(got);
    ws.on("error", () => {});
    ws.on("message", (data) => {
      got.push(data.toString());
      ws.send(`echo:${data.toString()}`);
    });
  });
  return {
    port: (wss.address() as AddressInfo).port,
    connections,
    stop: (code?: number) =>
      new Promise<void>((r) => {
        for (const c of wss.clients) {
          if (code === undefined) c.terminate();
          else c.close(code, "restarting");
        }
        wss.close(() => r());
      }),
  };
}

describe("reconnect", () => {
  it("comes back after the ws server is stopped and restarted on its port: RECONNECTED once, on_open before what was sent while down", async () => {
    let server = await startRecordingServer();
    const port = server.port;
    let opens = 0;
    try {
      const h = await open(port, {
        reconnect: FAST,
        on_open: (handle) => {
          opens++;
          void websock_send_text(handle, "subscribe");
        },
      });
      assert.equal(opens, 1, "on_open runs at the first open too");
      await until("the first subscription", () => server.connections[0]?.length === 1);
      assert.equal((await recvText(h)).text, "echo:subscribe");
      // A reader waits throughout, as an application's receive loop does (the close frame is read by it).
      const notice = recvText(h);
      // The server restarts: 1012 (service restart) is one of the closes that are retried.
      await server.stop(1012);
      await until("the drop is seen", () => websock_get_info(h)!.state === "CONNECTING");
      // Sent while down: it waits for the next connection and goes after on_open's subscription.
      const queued = websock_send_text(h, "queued while down");
      // Attempts meet a refused port for a while.
      await until("some refused attempts", () => (websock_get_info(h)!.attempts ?? 0) >= 2);
      assert.equal(websock_get_info(h)!.last_failure?.code, WEBSOCK_ERR.CONNECT);
      server = await startRecordingServer(port);
      assert.equal((await notice).n, WEBSOCK_ERR.RECONNECTED, websock_last_error(h).message);
      assert.equal(websock_last_error(h).name, "WEBSOCK_ERR_RECONNECTED");
      assert.equal(websock_last_error(h).message_cut, undefined);
      assert.equal(await queued, 0);
      assert.equal((await recvText(h)).text, "echo:subscribe");
      assert.equal((await recvText(h)).text, "echo:queued while down");
      assert.deepEqual(server.connections[0], ["subscribe", "queued while down"]);
      assert.equal(opens, 2);
      const info = websock_get_info(h)!;
      assert.equal(info.state, "OPEN");
      assert.equal(info.reconnects, 1);
      assert.ok(info.attempts! >= 3, `attempts ${info.attempts}`);
      // The notice came once: the handle reads on normally.
      assert.equal(await websock_send_text(h, "after"), 0);
      assert.equal((await recvText(h)).text, "echo:after");
      await websock_close(h);
    } finally {
      await server.stop();
    }
  });

  it("retries a reset in the middle of the handshake and an EOF during it, then opens", async () => {
    let n = 0;
    const raw = await startRawServer((p) => {
      n++;
      if (n === 1) {
        p.socket.write(switchingProtocols(p.request.accept));
        // 1001 going away: retried.
        p.socket.write(serverFrame(8, Buffer.from([0x03, 0xe9])));
      } else if (n === 2) {
        // Half a status line, then a reset.
        p.socket.write("HTTP/1.1 10");
        setTimeout(() => p.socket.resetAndDestroy(), 5);
      } else if (n === 3) {
        p.socket.end();
      } else {
        p.socket.write(switchingProtocols(p.request.accept));
        p.socket.write(serverFrame(1, "hello again"));
      }
    });
    try {
      const h = await open(raw.port, { reconnect: FAST });
      assert.equal((await recvText(h)).n, WEBSOCK_ERR.RECONNECTED);
      assert.equal((await recvText(h)).text, "hello again");
      const info = websock_get_info(h)!;
      assert.equal(info.attempts, 3);
      assert.equal(info.reconnects, 1);
      await websock_close(h);
    } finally {
      await raw.stop();
    }
  });

  it("reports a message cut by the drop as cut, never glued to the next connection's first message", async () => {
    let n = 0;
    const raw = await startRawServer((p) => {
      n++;
      p.socket.write(switchingProtocols(p.request.accept));
      if (n === 1) {
        // The first fragment of a text message, then the connection dies (1006).
        p.socket.write(serverFrame(1, "hel", false));
        setTimeout(() => p.socket.destroy(), 20);
      } else {
        p.socket.write(serverFrame(1, "world"));
      }
    });
    try {
      const h = await open(raw.port, { reconnect: FAST });
      const first = await recvText(h);
      assert.deepEqual([first.text, first.fin, first.opcode], ["hel", false, WEBSOCK_OP.TEXT]);
      const notice = await recvText(h);
      assert.equal(notice.n, WEBSOCK_ERR.RECONNECTED);
      assert.equal(websock_last_error(h).message_cut, true);
      assert.match(websock_last_error(h).message, /a message was cut/);
      const next = await recvText(h);
      // A new message (opcode 1), not a continuation of "hel".
      assert.deepEqual([next.text, next.fin, next.opcode], ["world", true, WEBSOCK_OP.TEXT]);
      await websock_close(h);
    } finally {
      await raw.stop();
    }
  });

  it("gives up after max_attempts on a refused port: the held send and websock_recv get CONNECT", async () => {
    const server = await startRecordingServer();
    // Delays long enough (equal jitter: at least 50 and 100 ms) that the 5 ms poll below sees the
    // handle CONNECTING between the drop and the last attempt; with FAST's it could miss it.
    const h = await open(server.port, { reconnect: { first_delay: 0, min_delay: 100, max_delay: 200, max_attempts: 3 } });
    await server.stop();
    await until("the drop is seen", () => websock_get_info(h)!.state === "CONNECTING");
    const held = websock_send_text(h, "never sent");
    const end = await recvText(h);
    assert.equal(end.n, WEBSOCK_ERR.CONNECT, websock_last_error(h).message);
    assert.equal(await held, WEBSOCK_ERR.CONNECT);
    const info = websock_get_info(h)!;
    assert.equal(info.attempts, 3);
    assert.equal(info.reconnects, 0);
    assert.equal(info.last_failure?.code, WEBSOCK_ERR.CONNECT);
    assert.equal(info.state, "CLOSED");
    await websock_close(h);
  });

  it("never retries a 4xx other than 429: the 403 ends it with its status", async () => {
    let n = 0;
    const raw = await startRawServer((p) => {
      n++;
      if (n === 1) {
        p.socket.write(switchingProtocols(p.request.accept));
        p.socket.destroy();
      } else {
        p.socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
      }
    });
    try {
      const h = await open(raw.port, { reconnect: FAST });
      const end = await recvText(h);
      assert.equal(end.n, WEBSOCK_ERR.HTTP_STATUS);
      assert.equal(websock_last_error(h).http_status, 403);
      assert.equal(websock_get_info(h)!.attempts, 1);
      assert.equal(raw.peers.length, 2);
      await websock_close(h);
    } finally {
      await raw.stop();
    }
  });

  it("never retries a protocol error of the server's, nor a normal close", async () => {
    for (const [frame, code] of [
      [Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x61]), WEBSOCK_ERR.MASKED_FRAME],
      [serverFrame(8, Buffer.from([0x03, 0xe8])), WEBSOCK_ERR.CLOSED_BY_PEER],
    ] as const) {
      const raw = await startRawServer((p) => {
        p.socket.write(switchingProtocols(p.request.accept));
        p.socket.write(frame);
        p.socket.on("data", () => p.socket.end());
      });
      try {
        const h = await open(raw.port, { reconnect: FAST });
        assert.equal((await recvText(h)).n, code, websock_last_error(h).message);
        assert.equal(websock_get_info(h)!.attempts, 0);
        assert.equal(raw.peers.length, 1);
        await websock_close(h);
      } finally {
        await raw.stop();
      }
    }
  });

  it("websock_close during the backoff wait returns within one timer turn", async () => {
    const server = await startRecordingServer();
    try {
      // A long wait: it would be a minute before the next attempt.
      const h = await open(server.port, { reconnect: { first_delay: 60000, min_delay: 60000, max_delay: 60000 } });
      for (const c of [...server.connections]) void c;
      await server.stop();
      await until("the drop is seen", () => websock_get_info(h)!.state === "CONNECTING");
      const closed = websock_close(h).then(() => "closed");
      const turn = new Promise((r) => setTimeout(() => r("a timer turn passed"), 0));
      assert.equal(await Promise.race([closed, turn]), "closed");
      assert.equal(websock_get_info(h), null);
    } finally {
      await server.stop();
    }
  });

  it("websock_close during a connect attempt returns within one timer turn and drops the attempt's stream", async () => {
    let n = 0;
    const raw = await startRawServer((p) => {
      n++;
      // The first connection opens and drops; the attempt after it is never answered.
      if (n === 1) {
        p.socket.write(switchingProtocols(p.request.accept));
        p.socket.destroy();
      }
    });
    try {
      const h = await open(raw.port, { reconnect: FAST });
      await until("the attempt's request arrived", () => raw.peers.length === 2);
      assert.equal(websock_get_info(h)!.state, "CONNECTING");
      const closed = websock_close(h).then(() => "closed");
      const turn = new Promise((r) => setTimeout(() => r("a timer turn passed"), 0));
      assert.equal(await Promise.race([closed, turn]), "closed");
      await raw.peers[1].ended;
    } finally {
      await raw.stop();
    }
  });

  it("while down, websock_recv_now says AGAIN and websock_recv's timeout still applies", async () => {
    const server = await startRecordingServer();
    try {
      const h = await open(server.port, { reconnect: { first_delay: 60000, min_delay: 60000, max_delay: 60000 } });
      await server.stop();
      await until("the drop is seen", () => websock_get_info(h)!.state === "CONNECTING");
      const hdr = websock_msg_hdr_init();
      assert.equal(websock_recv_now(h, hdr, new Uint8Array(8), 8), WEBSOCK_ERR.AGAIN);
      assert.equal(await websock_recv(h, hdr, new Uint8Array(8), 8, 10), 0);
      assert.equal(hdr.opcode, -1);
      assert.equal(websock_get_info(h)!.last_failure?.code, WEBSOCK_ERR.CONNECTION_LOST);
      await websock_close(h);
    } finally {
      await server.stop();
    }
  });
});

describe("reconnect: Retry-After's HTTP-date against a real 503 server", () => {
  it("waits Retry-After minus Date, read off the server's headers (here: now + 3 s by the server's clock)", async () => {
    let n = 0;
    const raw = await startRawServer((p: RawPeer) => {
      n++;
      if (n === 1) {
        p.socket.write(switchingProtocols(p.request.accept));
        setTimeout(() => p.socket.destroy(), 5);
      } else {
        // What a server sets: its Date now, and a Retry-After date 3 s on.
        const now = Math.floor(Date.now() / 1000) * 1000;
        p.socket.end(`HTTP/1.1 503 Service Unavailable\r\nDate: ${new Date(now).toUTCString()}\r\nRetry-After: ${new Date(now + 3000).toUTCString()}\r\nContent-Length: 0\r\n\r\n`);
      }
    });
    try {
      const h = await open(raw.port, { reconnect: { first_delay: 0, min_delay: 1, max_delay: 60000 } });
      await until("the 503", () => websock_get_info(h)!.last_failure?.http_status === 503 && websock_get_info(h)!.retry_delay !== undefined);
      const info = websock_get_info(h)!;
      assert.equal(info.last_failure?.http_status, 503);
      // The backoff's own delay would be at most 1 ms: the server's date asked for 3 s.
      assert.equal(info.retry_delay, 3000);
      assert.equal(info.state, "CONNECTING");
      assert.equal(raw.peers.length, 2);
      await websock_close(h);
    } finally {
      await raw.stop();
    }
  });
});

/** The Node host with a clock and timers the test moves by hand. */
class ManualClock {
  now = 1_000_000;
  /** The wall clock (Host.wallClock): 2026-12-02T06:00:00Z, moving with `now`. */
  wallAtStart = Date.UTC(2026, 11, 2, 6, 0, 0);
  startedAt = this.now;
  timers: Array<{ at: number; target: TimerTarget }> = [];
  readonly host: Host;
  constructor() {
    this.host = {
      ...nodeHost,
      now: () => this.now,
      wallClock: () => this.wallAtStart + (this.now - this.startedAt),
      setTimer: (ms: number, target: TimerTarget) => {
        const t = { at: this.now + ms, target };
        this.timers.push(t);
        return t;
      },
      clearTimer: (t: unknown) => {
        this.timers = this.timers.filter((x) => x !== t);
      },
    };
  }
  /** The earliest timer's due time, or Infinity. */
  get next(): number {
    return this.timers.reduce((at, t) => Math.min(at, t.at), Infinity);
  }
  /** Moves the clock to `to`, firing what is due on the way. */
  advanceTo(to: number): void {
    for (;;) {
      const due = this.timers.filter((t) => t.at <= to).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.now = due.at;
      due.target.onTimer();
    }
    this.now = to;
  }
}

describe("reconnect timing, on the injected clock", () => {
  let clock: ManualClock;
  beforeEach(() => {
    clock = new ManualClock();
    useHost(clock.host);
  });
  afterEach(() => useHost(nodeHost));

  it("honours a 503's Retry-After: the next attempt is due exactly then, not earlier", async () => {
    let n = 0;
    const raw = await startRawServer((p: RawPeer) => {
      n++;
      if (n === 1) {
        p.socket.write(switchingProtocols(p.request.accept));
        p.socket.destroy();
      } else if (n === 2) {
        p.socket.end("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n");
      } else {
        p.socket.write(switchingProtocols(p.request.accept));
        // The clock is the test's: websock_close's close_timeout would never pass, so the close is answered.
        p.socket.on("data", () => p.socket.end());
      }
    });
    try {
      // first_delay 0: the first attempt is due at once; the backoff's own second delay would be at most 2 s.
      const h = await open(raw.port, { reconnect: { first_delay: 0, min_delay: 2000, max_delay: 2000 } });
      await until("the drop", () => clock.next === clock.now);
      clock.advanceTo(clock.now);
      await until("the 503", () => websock_get_info(h)!.last_failure?.http_status === 503);
      const failedAt = clock.now;
      // A timer set earlier (the attempt's time_out) may fire first: it finds nothing due and is set again.
      clock.advanceTo(failedAt + 29999);
      assert.equal(clock.next, failedAt + 30000, "the attempt after the 503 waits for its Retry-After");
      await sleep(20);
      assert.equal(raw.peers.length, 2);
      clock.advanceTo(failedAt + 30000);
      assert.equal((await recvText(h)).n, WEBSOCK_ERR.RECONNECTED);
      assert.equal(raw.peers.length, 3);
      assert.equal(websock_get_info(h)!.attempts, 2);
      await websock_close(h);
    } finally {
      await raw.stop();
    }
  });

  it("honours Retry-After's HTTP-date: Retry-After minus the response's Date; without a Date, against the host's wall clock", async () => {
    let n = 0;
    const raw = await startRawServer((p: RawPeer) => {
      n++;
      if (n === 1) {
        p.socket.write(switchingProtocols(p.request.accept));
        p.socket.destroy();
      } else if (n === 2) {
        // The server's clock is 27 years off ours: only the difference of its two dates counts.
        p.socket.end("HTTP/1.1 503 Service Unavailable\r\nDate: Fri, 31 Dec 1999 23:59:00 GMT\r\nRetry-After: Fri, 31 Dec 1999 23:59:45 GMT\r\nContent-Length: 0\r\n\r\n");
      } else if (n === 3) {
        // No Date: the host's wall clock (2026-12-02T06:00:00Z plus the time the test moved) is the reference.
        p.socket.end("HTTP/1.1 503 Service Unavailable\r\nRetry-After: Wed, 02 Dec 2026 06:02:00 GMT\r\nContent-Length: 0\r\n\r\n");
      } else {
        p.socket.write(switchingProtocols(p.request.accept));
        p.socket.on("data", () => p.socket.end());
      }
    });
    try {
      const h = await open(raw.port, { reconnect: { first_delay: 0, min_delay: 1000, max_delay: 600000 } });
      await until("the drop", () => clock.next === clock.now);
      clock.advanceTo(clock.now);
      await until("the first 503", () => websock_get_info(h)!.last_failure?.http_status === 503);
      let failedAt = clock.now;
      assert.equal(websock_get_info(h)!.retry_delay, 45000);
      clock.advanceTo(failedAt + 44999);
      assert.equal(clock.next, failedAt + 45000, "the attempt after the 503 waits until its Retry-After date");
      await sleep(20);
      assert.equal(raw.peers.length, 2);
      clock.advanceTo(failedAt + 45000);
      await until("the second 503", () => raw.peers.length === 3 && websock_get_info(h)!.retry_delay !== undefined);
      failedAt = clock.now;
      const wallThen = clock.wallAtStart + (failedAt - clock.startedAt);
      const expected = Date.UTC(2026, 11, 2, 6, 2, 0) - wallThen;
      assert.equal(websock_get_info(h)!.retry_delay, expected);
      // The attempt's time_out timer may still be set, and fire first: it finds nothing due.
      clock.advanceTo(failedAt + expected - 1);
      assert.equal(clock.next, failedAt + expected, "the attempt after the second 503 waits until its date by the wall clock");
      clock.advanceTo(failedAt + expected);
      assert.equal((await recvText(h)).n, WEBSOCK_ERR.RECONNECTED);
      assert.equal(websock_get_info(h)!.attempts, 3);
      assert.equal(websock_get_info(h)!.retry_delay, undefined, "no wait once up");
      await websock_close(h);
    } finally {
      await raw.stop();
    }
  });

  it("clamps a Retry-After date beyond max_delay to max_delay", async () => {
    let n = 0;
    const raw = await startRawServer((p: RawPeer) => {
      n++;
      if (n === 1) {
        p.socket.write(switchingProtocols(p.request.accept));
        p.socket.destroy();
      } else {
        // A day later by the server's own Date.
        p.socket.end("HTTP/1.1 503 Service Unavailable\r\nDate: Fri, 31 Dec 1999 23:59:00 GMT\r\nRetry-After: Sat, 01 Jan 2000 23:59:00 GMT\r\nContent-Length: 0\r\n\r\n");
      }
    });
    try {
      const h = await open(raw.port, { reconnect: { first_delay: 0, min_delay: 1000, max_delay: 8000 } });
      await until("the drop", () => clock.next === clock.now);
      clock.advanceTo(clock.now);
      await until("the 503", () => websock_get_info(h)!.last_failure?.http_status === 503);
      assert.equal(websock_get_info(h)!.retry_delay, 8000);
      const failedAt = clock.now;
      clock.advanceTo(failedAt + 7999);
      assert.equal(clock.next, failedAt + 8000);
      await websock_close(h);
    } finally {
      await raw.stop();
    }
  });

  it("backs off exponentially while attempts fail, and starts over after a connection that stayed up", async () => {
    // Every connection opens and is dropped at once, except that the test decides when.
    const raw = await startRawServer((p: RawPeer) => {
      p.socket.write(switchingProtocols(p.request.accept));
    });
    try {
      const h = await open(raw.port, { reconnect: { first_delay: 0, min_delay: 1000, max_delay: 8000, stable_after: 10000 } });
      const delays: number[] = [];
      for (let i = 0; i < 5; i++) {
        const peers = raw.peers.length;
        raw.peers[peers - 1].socket.destroy();
        await until("the drop", () => clock.next !== Infinity && websock_get_info(h)!.state === "CONNECTING");
        const droppedAt = clock.now;
        delays.push(clock.next - droppedAt);
        clock.advanceTo(clock.next);
        await until("the next connection", () => raw.peers.length === peers + 1 && websock_get_info(h)!.state === "OPEN");
      }
      // Connections that do not stay up do not reset it: 0, then [d/2, d] for d = 1000, 2000, 4000, 8000.
      assert.equal(delays[0], 0);
      [1000, 2000, 4000, 8000].forEach((d, i) => assert.ok(delays[i + 1] >= d / 2 && delays[i + 1] <= d, `delay ${i + 1}: ${delays[i + 1]}`));
      // One that stays up 10 s: the next drop starts over with the first delay (0 here).
      clock.advanceTo(clock.now + 10000);
      raw.peers[raw.peers.length - 1].socket.destroy();
      await until("the drop", () => websock_get_info(h)!.state === "CONNECTING");
      assert.equal(clock.next, clock.now);
      await websock_close(h);
    } finally {
      await raw.stop();
    }
  });
});
