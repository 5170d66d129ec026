/// <reference path="../../hosts/xs-test/xsnap-globals.d.ts" />
// Bundled with test/xs/moddable-bundle.ts and evaluated inside the xsnap
// worker: the Moddable host itself (hosts/moddable: index.ts,
// moddable-host.ts, socket.ts, tcp-transport.ts) as a Moddable app imports
// it, `import ... from "websock"`, over the ECMA-419 TCP emulation
// (hosts/xs-test/ecma419-tcp.ts) and the timer/time/crypt/net shims. Node
// (moddable-host.xs-test.ts) only plays the kernel and the peers.
//
// Each scenario starts with a call from Node, goes on in the deliveries that
// bring timer and resolver events, and ends with one REPORT.

import { Checks } from "./checks.js";
import type { EchoReport, ModdableSessionReport, Pending, RecvTimeoutReport } from "./moddable-reports.js";
import {
  WEBSOCK_ERR,
  WEBSOCK_OK,
  WEBSOCK_OP,
  WS_BINARY,
  websock_attach_client,
  websock_close,
  websock_close_with_code,
  websock_detach,
  websock_get_info,
  websock_last_error,
  websock_msg_hdr_init,
  websock_open,
  websock_recv,
  websock_send_binary,
  websock_send_frame,
  websock_send_text,
  type websock_config_t,
  type websock_handle_t,
} from "websock";
import TCP, { tcpEvents, tcpStatus, type TcpStatus } from "../../hosts/xs-test/ecma419-tcp.js";
import { emulation, pendingTimers, relayNow, report } from "../../hosts/xs-test/moddable-shims/runtime.js";
import Timer from "../../hosts/xs-test/moddable-shims/timer.js";
// The same module as hosts/moddable/index.ts's "websock/src/registry" (moddable-bundle.ts maps both to the file).
import { currentHost } from "../../src/registry.js";

const RX = 1024;
const TX = 1024;


function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + 7) & 0xff;
  return out;
}

function utf8Of(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function config(hostname: string, port: number, uri: string, extra: Partial<websock_config_t> = {}): websock_config_t {
  return { hostname, port, uri, rx_buffer_size: RX, tx_buffer_size: TX, time_out: 5000, close_timeout: 3000, ...extra };
}

/** One whole message through websock_recv with a RX-byte buffer; null (after a failed check) on error or timeout. */
async function receiveMessage(h: websock_handle_t, t: Checks, what: string): Promise<{ opcode: number; payload: Uint8Array; pieces: number } | null> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(RX);
  const parts: Uint8Array[] = [];
  let opcode = -1;
  let length = 0;
  for (;;) {
    const n = await websock_recv(h, hdr, buf, RX, 10000);
    if (n < 0 || hdr.opcode < 0) {
      t.ok(false, `${what}: websock_recv returned ${n}, opcode ${hdr.opcode} (${websock_last_error(h).name} ${websock_last_error(h).message})`);
      return null;
    }
    if (opcode === -1) opcode = hdr.opcode;
    parts.push(buf.slice(0, n));
    length += n;
    if (hdr.fin && hdr.bytesleft === 0) break;
  }
  const payload = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    payload.set(p, at);
    at += p.length;
  }
  return { opcode, payload, pieces: parts.length };
}


async function session(port: number, dnsName: string, dnsExpected: boolean, t: Checks, out: ModdableSessionReport): Promise<void> {
  // 1. Echo: text, binary, 100 KiB through the 1 KiB buffers; then our close with a code.
  const h = await websock_open(config("127.0.0.1", port, "/echo"));
  if (t.ok(h !== null, `open /echo: ${websock_last_error().name} ${websock_last_error().message}`)) {
    t.equal(websock_get_info(h!)?.state, "OPEN", "/echo: state after open");
    const text = "h\u00e9llo from Moddable \u2713 \u{1F680}";
    t.equal(await websock_send_text(h!, text), WEBSOCK_OK, "send text");
    const m1 = await receiveMessage(h!, t, "text echo");
    if (m1 !== null) {
      t.equal(m1.opcode, WEBSOCK_OP.TEXT, "text echoed as text");
      t.ok(sameBytes(m1.payload, utf8Of(text)), "text echoed byte for byte");
    }
    const small = pattern(300);
    t.equal(await websock_send_binary(h!, small), WEBSOCK_OK, "send 300 bytes binary");
    const m2 = await receiveMessage(h!, t, "binary echo");
    if (m2 !== null) {
      t.equal(m2.opcode, WEBSOCK_OP.BINARY, "binary echoed as binary");
      t.ok(sameBytes(m2.payload, small), "300 bytes echoed");
    }
    const big = pattern(100 * 1024);
    const started = relayNow();
    t.equal(await websock_send_binary(h!, big), WEBSOCK_OK, "send 100 KiB binary");
    const m3 = await receiveMessage(h!, t, "100 KiB echo");
    if (m3 !== null) {
      t.ok(sameBytes(m3.payload, big), `100 KiB echoed (got ${m3.payload.length} bytes)`);
      t.ok(m3.pieces >= 100, `100 KiB came through the ${RX}-byte buffer in pieces (${m3.pieces})`);
      out.big = { pieces: m3.pieces, ms: Math.round(relayNow() - started) };
    }
    t.equal(await websock_close_with_code(h!, 4000, "done in Moddable"), WEBSOCK_OK, "close 4000 from our side");
    t.equal(websock_get_info(h!), null, "the handle is released after close");
  }

  // 2. A ping from the server, answered inside websock_recv (the server records the pong).
  const p = await websock_open(config("127.0.0.1", port, "/ping"));
  if (t.ok(p !== null, `open /ping: ${websock_last_error().message}`)) {
    t.equal(await websock_send_text(p!, "ping me, Moddable"), WEBSOCK_OK, "/ping: the message that makes the server ping");
    const hdr = websock_msg_hdr_init();
    const buf = new Uint8Array(RX);
    t.equal(await websock_recv(p!, hdr, buf, RX, 500), 0, "/ping: websock_recv answers the ping and delivers nothing");
    t.equal(hdr.opcode, -1, "/ping: nothing delivered");
    await websock_close(p!);
  }

  // 3. The server closes with 4001: recv reports it; our close echoes the code.
  const c = await websock_open(config("127.0.0.1", port, "/close4001"));
  if (t.ok(c !== null, `open /close4001: ${websock_last_error().message}`)) {
    const hdr = websock_msg_hdr_init();
    const buf = new Uint8Array(RX);
    t.equal(await websock_recv(c!, hdr, buf, RX, 5000), WEBSOCK_ERR.CLOSED_BY_PEER, "/close4001: recv ends with CLOSED_BY_PEER");
    t.equal(websock_last_error(c!).close_code, 4001, "/close4001: the server's code");
    t.equal(websock_last_error(c!).close_reason, "going away now", "/close4001: the server's reason");
    await websock_close(c!);
  }

  // 4. A host name: Net.resolve first (the simulator keeps the first address, IPv4 only).
  const d = await websock_open(config(dnsName, port, "/echo"));
  if (dnsExpected) {
    if (t.ok(d !== null, `open ${dnsName}: ${websock_last_error().name} ${websock_last_error().message}`)) {
      t.equal(await websock_send_text(d!, "resolved"), WEBSOCK_OK, `${dnsName}: send`);
      const m = await receiveMessage(d!, t, `${dnsName} echo`);
      if (m !== null) t.ok(sameBytes(m.payload, utf8Of("resolved")), `${dnsName}: echoed`);
      await websock_close(d!);
    }
  } else {
    t.equal(d, null, `${dnsName} does not resolve to IPv4 first: open fails`);
    t.equal(websock_last_error().name, "WEBSOCK_ERR_DNS", `${dnsName}: the error`);
  }

  // 5. Nothing listening: the first poll's read(2) fails, onError before any onWritable.
  const refused = await websock_open(config("127.0.0.1", 1, "/"));
  t.equal(refused, null, "port 1: open fails");
  t.equal(websock_last_error().name, "WEBSOCK_ERR_CONNECT", "port 1: a connect error");
}

/** A whole session through the Moddable host; one REPORT at the end. */
export function runSession(port: number, pollMs: number, dnsName: string, dnsExpected: boolean): void {
  emulation.tcpPollMs = pollMs;
  const t = new Checks();
  const out: ModdableSessionReport = { assertions: 0, failures: t.failures, big: { pieces: 0, ms: 0 } };
  session(port, dnsName, dnsExpected, t, out)
    .catch((e: unknown) => t.ok(false, `the session threw ${String(e)}`))
    .then(() => {
      out.assertions = t.assertions;
      report(out);
    });
}

// ---- issue 12, hang 2: a recv timeout while a ping is answered ----


/** websock_recv(h, ..., 1000) on a connection whose server pings on its own schedule (several pings inside the call). */
export function runRecvTimeoutPinged(port: number, pollMs: number): void {
  emulation.tcpPollMs = pollMs;
  const failures: string[] = [];
  const out = { first: { n: NaN, opcode: NaN, ms: NaN }, second: { n: NaN, opcode: NaN, ms: NaN }, failures };
  (async () => {
    const h = await websock_open(config("127.0.0.1", port, "/pings"));
    if (h === null) {
      failures.push(`open /pings: ${websock_last_error().message}`);
      return;
    }
    const hdr = websock_msg_hdr_init();
    const buf = new Uint8Array(RX);
    if ((await websock_send_text(h, "start")) !== WEBSOCK_OK) failures.push(`send: ${websock_last_error(h).message}`);
    for (const which of ["first", "second"] as const) {
      const at = relayNow();
      const n = await websock_recv(h, hdr, buf, RX, 1000);
      out[which] = { n, opcode: hdr.opcode, ms: Math.round(relayNow() - at) };
    }
    await websock_close(h);
  })()
    .catch((e: unknown) => failures.push(`threw ${String(e)}`))
    .then(() => report(out));
}

export function runRecvTimeout(port: number, pollMs: number): void {
  emulation.tcpPollMs = pollMs;
  const failures: string[] = [];
  const out: RecvTimeoutReport = { quiet: { n: NaN, opcode: NaN, ms: NaN }, pinged: { n: NaN, opcode: NaN, ms: NaN }, failures };
  (async () => {
    const h = await websock_open(config("127.0.0.1", port, "/ping"));
    if (h === null) {
      failures.push(`open /ping: ${websock_last_error().message}`);
      return;
    }
    const hdr = websock_msg_hdr_init();
    const buf = new Uint8Array(RX);
    let at = relayNow();
    let n = await websock_recv(h, hdr, buf, RX, 1000);
    out.quiet = { n, opcode: hdr.opcode, ms: Math.round(relayNow() - at) };
    if ((await websock_send_text(h, "ping me")) !== WEBSOCK_OK) failures.push(`send: ${websock_last_error(h).message}`);
    at = relayNow();
    n = await websock_recv(h, hdr, buf, RX, 1000);
    out.pinged = { n, opcode: hdr.opcode, ms: Math.round(relayNow() - at) };
    await websock_close(h);
  })()
    .catch((e: unknown) => failures.push(`threw ${String(e)}`))
    .then(() => report(out));
}

// ---- issue 12, hang 1: the Autobahn 7.1.6 shape ----



const pending = new Set<Pending>();
const echo: EchoReport = { done: false, received: 0, echoed: 0, ended: "", lastError: "", ms: 0, pending: [], sockets: [], sigpipes: [], unreportedErrors: 0, timers: 0, now: 0 };

/** Awaits `p` as one tracked operation: the status lists it while it is unsettled. */
async function tracked<T>(what: string, p: Promise<T>): Promise<T> {
  const entry = { what, since: Math.round(relayNow()) };
  pending.add(entry);
  try {
    return await p;
  } finally {
    pending.delete(entry);
  }
}

/**
 * tools/moddable-autobahn's echo loop: every piece read through the 1 KiB
 * buffer goes straight back out with websock_send_frame; recv waits 1000 ms;
 * an idle limit ends the case (there: 120 s; here: idleMs).
 */
export function runEcho(port: number, pollMs: number, idleMs: number, extra: Partial<websock_config_t> = {}): void {
  emulation.tcpPollMs = pollMs;
  const started = relayNow();
  (async () => {
    const h = await tracked("websock_open", websock_open(config("127.0.0.1", port, "/716", { time_out: 10000, ...extra })));
    if (h === null) {
      echo.ended = `open failed: ${websock_last_error().message}`;
      return;
    }
    const hdr = websock_msg_hdr_init();
    const buf = new Uint8Array(RX);
    let idleSince = relayNow();
    for (;;) {
      const n = await tracked(`websock_recv #${echo.received + 1}`, websock_recv(h, hdr, buf, RX, 1000));
      if (n < 0) {
        echo.ended = `recv ${n}`;
        echo.lastError = `${websock_last_error(h).name} ${websock_last_error(h).message} close_code ${websock_last_error(h).close_code}`;
        break;
      }
      if (hdr.opcode < 0) {
        if (relayNow() - idleSince > idleMs) {
          echo.ended = "idle";
          break;
        }
        continue;
      }
      idleSince = relayNow();
      echo.received++;
      if (hdr.opcode !== WEBSOCK_OP.TEXT && hdr.opcode !== WEBSOCK_OP.BINARY && hdr.opcode !== WEBSOCK_OP.CONTINUATION) continue;
      const first = hdr.opcode !== WEBSOCK_OP.CONTINUATION && hdr.offset === 0;
      const last = hdr.fin && hdr.bytesleft === 0;
      await tracked(`websock_send_frame #${echo.echoed + 1} (${n} bytes)`, websock_send_frame(h, first ? hdr.opcode : WEBSOCK_OP.CONTINUATION, buf, n, last));
      echo.echoed++;
    }
    await tracked("websock_close", websock_close(h));
  })()
    .catch((e: unknown) => {
      echo.ended = `threw ${String(e)}`;
    })
    .then(() => {
      echo.done = true;
      echo.ms = Math.round(relayNow() - started);
      echoStatus();
    });
}

/**
 * A long send while the server sends a message, its close and its FIN: the
 * application is inside websock_send_binary, not reading, so the bytes wait
 * in the core's rx buffer and the socket's 1,536-byte buffer when the poll
 * reads the FIN. Then recv until it reports the end, then close.
 */
export function runSendWhilePeerCloses(port: number, pollMs: number, size: number, extra: Partial<websock_config_t> = {}): void {
  emulation.tcpPollMs = pollMs;
  const started = relayNow();
  (async () => {
    const h = await tracked("websock_open", websock_open(config("127.0.0.1", port, "/bye", extra)));
    if (h === null) {
      echo.ended = `open failed: ${websock_last_error().message}`;
      return;
    }
    const sent = await tracked(`websock_send_binary (${size} bytes)`, websock_send_binary(h, pattern(size)));
    echo.echoed = sent === WEBSOCK_OK ? 1 : 0;
    const hdr = websock_msg_hdr_init();
    const buf = new Uint8Array(RX);
    for (;;) {
      const n = await tracked(`websock_recv #${echo.received + 1}`, websock_recv(h, hdr, buf, RX, 1000));
      if (n < 0) {
        echo.ended = `recv ${n}`;
        echo.lastError = `${websock_last_error(h).name} ${websock_last_error(h).message} close_code ${websock_last_error(h).close_code}`;
        break;
      }
      if (hdr.opcode < 0) {
        echo.ended = "recv 0: nothing within 1000 ms";
        break;
      }
      echo.received++;
    }
    await tracked("websock_close", websock_close(h));
  })()
    .catch((e: unknown) => {
      echo.ended = `threw ${String(e)}`;
    })
    .then(() => {
      echo.done = true;
      echo.ms = Math.round(relayNow() - started);
      echoStatus();
    });
}

/** Reports the echo's state now: what is still pending, and each socket's native state. */
export function echoStatus(): void {
  echo.pending = [...pending];
  echo.sockets = tcpStatus();
  echo.sigpipes = tcpEvents.sigpipes.slice();
  echo.unreportedErrors = tcpEvents.unreportedErrors;
  echo.timers = pendingTimers();
  echo.now = Math.round(relayNow());
  report(echo);
}

// ---- the emulation itself: what a script sees of lin/tcp.c ----

/**
 * Connects a bare ECMA-419 socket and logs its callbacks. With `readAtOnce`
 * every onReadable reads all it announces; without, the script reads nothing
 * until `lateReadMs` has passed (while the peer's FIN arrives), then reads
 * all there is, twice, `lateReadMs` apart, then waits as long again for an
 * onError.
 */
export function probeTcp(port: number, pollMs: number, readAtOnce: boolean, lateReadMs: number): void {
  emulation.tcpPollMs = pollMs;
  const events: string[] = [];
  let received = 0;
  const socket = new TCP({
    address: "127.0.0.1",
    port,
    onWritable(count: number) {
      events.push(`writable ${count}`);
    },
    onReadable(count: number) {
      events.push(`readable ${count}`);
      if (readAtOnce) {
        const buf = new Uint8Array(count);
        this.read(buf);
        received += count;
      }
    },
    onError() {
      events.push(`error after ${received} bytes`);
    },
  });
  const lateRead = (): void => {
    if (readAtOnce) return;
    const all = socket.read();
    const n = all instanceof ArrayBuffer ? all.byteLength : 0;
    received += n;
    events.push(`late read ${n}`);
  };
  // Read late twice (the second read empties the buffer), then wait as long again for an onError.
  Timer.set(() => {
    lateRead();
    Timer.set(() => {
      lateRead();
      Timer.set(() => {
        socket.close();
        report({ events, received, unreportedErrors: tcpEvents.unreportedErrors });
      }, lateReadMs);
    }, lateReadMs);
  }, lateReadMs);
}

// ---- memory: what an idle open connection holds ----
//
// Three layers, each opened `count` times and kept: the emulated ECMA-419
// socket alone (its callbacks module functions, so the figure is the
// emulation's own record and poll task); hosts/moddable's Transport over it
// (moddableHost.connect, connected, nothing read or written); and a whole
// websock connection (websock_open, OPEN, nothing pending). Node reads the
// slots in use after collect() (gc(), the last thing its delivery does) from
// the delivery's meter, before and after each layer is opened and closed.

/**
 * The bare socket's callbacks: module functions, as a careful ECMA-419
 * application has them. Nothing is written, so onWritable comes once, when
 * connected (a later one would only take `waiting` below zero).
 */
function bareWritable(this: TCP): void {
  (this.target as Opened).done();
}
function bareIgnored(): void {}

class Opened {
  readonly kept: Array<{ close(): void }> = [];
  readonly failures: string[] = [];
  private waiting: number;
  constructor(count: number) {
    this.waiting = count;
  }
  done(): void {
    if (--this.waiting === 0) report({ opened: this.kept.length, failures: this.failures });
  }
}

/** hosts/moddable's transport callbacks, doing nothing but counting the connection. */
class IdleHandlers {
  constructor(private readonly opened: Opened) {}
  onConnect(): void {
    this.opened.done();
  }
  onReadable(): void {}
  onWritable(): void {}
  onEnd(): void {
    this.opened.failures.push("a transport ended");
  }
  onError(failure: { message: string }): void {
    this.opened.failures.push(failure.message);
    this.opened.done();
  }
}

let opened: Opened | null = null;
let idleHandles: websock_handle_t[] = [];

/** A full collection: the last thing its delivery does, so the delivery's meter shows the live slots. */
export function collect(): void {
  (globalThis as unknown as { gc(): void }).gc();
}

/** Opens `count` of one layer and keeps them; one REPORT once all are open. */
export function openIdle(layer: "socket" | "transport" | "websock", port: number, count: number, pollMs: number): void {
  emulation.tcpPollMs = pollMs;
  const o = new Opened(count);
  opened = o;
  if (layer === "socket") {
    for (let i = 0; i < count; i++) {
      o.kept.push(new TCP({ address: "127.0.0.1", port, nodelay: true, target: o, onWritable: bareWritable, onReadable: bareIgnored, onError: bareIgnored }));
    }
  } else if (layer === "transport") {
    const handlers = new IdleHandlers(o);
    for (let i = 0; i < count; i++) {
      o.kept.push(currentHost()!.connect({ hostname: "127.0.0.1", port, secured: false, ssl: {} }, handlers) as unknown as { close(): void });
    }
  } else {
    (async () => {
      for (let i = 0; i < count; i++) {
        const h = await websock_open(config("127.0.0.1", port, "/silent"));
        if (h === null) o.failures.push(`open: ${websock_last_error().message}`);
        else idleHandles.push(h);
        o.done();
      }
    })().catch((e: unknown) => o.failures.push(`threw ${String(e)}`));
  }
}

/** Closes what openIdle kept; one REPORT once all are closed. */
export function closeIdle(): void {
  const o = opened;
  opened = null;
  for (const k of o?.kept ?? []) k.close();
  const handles = idleHandles;
  idleHandles = [];
  Promise.all(handles.map((h) => websock_close(h))).then(() => report({ closed: (o?.kept.length ?? 0) + handles.length }));
}

// ---- a stream the application has: websock_attach_client, then websock_detach ----

/** The application's own socket's onWritable: connected, so hand it to websock (once). */
function appSocketWritable(this: TCP): void {
  const attach = this.target as (() => void) | null;
  this.target = null;
  attach?.();
}

/**
 * The application connects an ECMA-419 socket to /echo itself and hands it
 * to websock_attach_client (the host takes it over with `from`); an echo
 * goes through; websock_detach gives back a live socket, which the
 * application closes. Then an IPv6 address, which Moddable's TCP cannot
 * take: open fails with a connect error. One REPORT.
 */
export function runAttach(port: number, pollMs: number): void {
  emulation.tcpPollMs = pollMs;
  const t = new Checks();
  const attach = (): void => {
    (async () => {
      const h = await websock_attach_client(socket, WS_BINARY, "/echo", `127.0.0.1:${port}`, { rx_buffer_size: RX, tx_buffer_size: TX, time_out: 5000 });
      if (t.ok(h !== null, `attach: ${websock_last_error().name} ${websock_last_error().message}`)) {
        t.equal(websock_get_info(h!)?.state, "OPEN", "attached: state");
        t.equal(await websock_send_text(h!, "attached"), WEBSOCK_OK, "attached: send");
        const m = await receiveMessage(h!, t, "attached echo");
        if (m !== null) t.ok(sameBytes(m.payload, utf8Of("attached")), "attached: echoed");
        const back = (await websock_detach(h!)) as { read?: unknown; close?: () => void } | null;
        t.ok(back !== null && typeof back.read === "function" && back !== socket, "detach gives back the socket (the instance the host made with `from`)");
        back?.close?.();
      }
      const v6 = await websock_open(config("::1", port, "/echo"));
      t.equal(v6, null, "::1: open fails");
      t.equal(websock_last_error().name, "WEBSOCK_ERR_CONNECT", "::1: a connect error");
      t.ok(websock_last_error().message.includes("IPv6"), `::1: the message says why (${websock_last_error().message})`);
    })()
      .catch((e: unknown) => t.ok(false, `threw ${String(e)}`))
      .then(() => report({ assertions: t.assertions, failures: t.failures }));
  };
  const socket = new TCP({ address: "127.0.0.1", port, target: attach, onWritable: appSocketWritable });
}

/**
 * Issue 14 on the Moddable host: ws:// through an HTTP proxy (CONNECT over
 * the ECMA-419 socket, then the handshake through the tunnel), a 407 from a
 * proxy that wants credentials, a redirect followed, and wss:// through the
 * proxy up to the TLS start (the emulation has no TLS: the socket is moved
 * into the TLS transport with `from`, whose session cannot be made here).
 */
export function runProxy(wsPort: number, proxyPort: number, guardedPort: number, redirectUrl: string, pollMs: number): void {
  emulation.tcpPollMs = pollMs;
  const t = new Checks();
  (async () => {
    const proxy = `http://127.0.0.1:${proxyPort}`;
    const h = await websock_open(config("127.0.0.1", wsPort, "/echo", { proxy }));
    if (t.ok(h !== null, `open through the proxy: ${websock_last_error().name} ${websock_last_error().message}`)) {
      t.equal(await websock_send_text(h!, "tunnelled in XS"), WEBSOCK_OK, "proxy: send");
      const m = await receiveMessage(h!, t, "proxy echo");
      if (m !== null) t.ok(sameBytes(m.payload, utf8Of("tunnelled in XS")), "proxy: echoed through the tunnel");
      t.equal(websock_get_info(h!)?.url, `ws://127.0.0.1:${wsPort}/echo`, "proxy: the URL");
      await websock_close(h!);
    }
    const denied = await websock_open(config("127.0.0.1", wsPort, "/echo", { proxy: `http://127.0.0.1:${guardedPort}` }));
    t.equal(denied, null, "407: open fails");
    t.equal(websock_last_error().name, "WEBSOCK_ERR_PROXY", "407: the error");
    t.equal(websock_last_error().http_status, 407, "407: its status");
    const allowed = await websock_open(config("127.0.0.1", wsPort, "/echo", { proxy: `http://erin:pw@127.0.0.1:${guardedPort}` }));
    t.ok(allowed !== null, `with credentials: ${websock_last_error().name} ${websock_last_error().message}`);
    if (allowed !== null) await websock_close(allowed);

    const parsed = redirectUrl.split("/");
    const [host, port] = parsed[2].split(":");
    const r = await websock_open(config(host, Number(port), "/" + parsed.slice(3).join("/"), { follow_redirects: 2 }));
    if (t.ok(r !== null, `redirect: ${websock_last_error().name} ${websock_last_error().message}`)) {
      t.equal(websock_get_info(r!)?.url, `ws://127.0.0.1:${wsPort}/echo`, "redirect: the final URL");
      t.equal(websock_get_info(r!)?.redirects, 1, "redirect: one followed");
      await websock_close(r!);
    }

    const tls = await websock_open(config("localhost", wsPort, "/echo", { proxy, secured: true, ssl_config: { verify: false } }));
    t.equal(tls, null, "wss:// through the proxy: no TLS in the emulation");
    t.equal(websock_last_error().name, "WEBSOCK_ERR_TLS", `wss://: a TLS failure (${websock_last_error().message})`);
    t.ok(websock_last_error().message.includes("has no TLS"), `wss://: the TLS transport was made over the tunnel, and only the emulation's missing session stopped it (${websock_last_error().message})`);
  })()
    .catch((e: unknown) => t.ok(false, `threw ${String(e)}`))
    .then(() => report({ assertions: t.assertions, failures: t.failures }));
}
