/// <reference path="../../hosts/xs-test/xsnap-globals.d.ts" />
// Bundled and evaluated inside the xsnap worker: the close-path scenarios of
// test/close-path.test.ts ("Nothing lost, nothing hangs"), run by the
// websock_* API over the XS test host against real servers on 127.0.0.1
// (close-path.xs-test.ts starts them; relay.ts moves the bytes and timers).
//
// Each scenario begins with a call from Node and goes on in the deliveries
// that bring socket and timer events; it ends with one REPORT: how many
// assertions ran here, and which failed. Time inside XS is the host's own:
// a pause is a timer of the XS test host (SET_TIMER on Node's event loop),
// and every wait is bounded by one, so a hang is a failed check, not a
// silent test timeout.

import { Checks } from "./checks.js";
import { installXsTestHost, type XsTestHost } from "../../hosts/xs-test/xs-test-host.js";
import { WEBSOCK_ERR, createWebsock, websock_msg_hdr_init, type WebsockApi } from "../../src/websock.js";
import type { websock_config_t, websock_handle_t } from "../../src/types.js";

export interface CloseReport {
  assertions: number;
  failures: string[];
  /** Stress: the runs made, and the messages they delivered. */
  runs?: number;
  messages?: number;
  /** Bytes delivered, for the reset scenario. */
  delivered?: number;
}

/** One stress run, as Node drew it: the server sends `sizes.length` messages, then close `code`. */
export interface StressRun {
  sizes: number[];
  code: number;
  rxBufferSize: number;
  /** Milliseconds of pause after each message (0: none). */
  delays: number[];
  /** After which messages the application answers with a send, as an echo client would. */
  echoes: boolean[];
}

/** The text of message `i` of stress run `run`: both sides build it from the sizes alone. */
export function stressMessage(run: number, i: number, size: number): string {
  return `${run}.${i} ${"y".repeat(size)}`;
}

/** The text of message `i` of the late-reader scenario. */
export function lateMessage(i: number): string {
  return `message ${i} ${"x".repeat(i * 150)}`;
}


const TIMED_OUT = Symbol("timed out");

/** The host's timers, as the application's own waits. */
class Clock {
  constructor(private readonly xs: XsTestHost) {}

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.xs.host.setTimer(ms, { onTimer: () => resolve() });
    });
  }

  /** `p`'s value, or TIMED_OUT when it has not settled within `ms`. */
  within<T>(ms: number, p: Promise<T>): Promise<T | typeof TIMED_OUT> {
    return new Promise((resolve, reject) => {
      const timer = this.xs.host.setTimer(ms, { onTimer: () => resolve(TIMED_OUT) });
      p.then(
        (v) => {
          this.xs.host.clearTimer(timer);
          resolve(v);
        },
        (e: unknown) => {
          this.xs.host.clearTimer(timer);
          reject(e);
        },
      );
    });
  }

  now(): number {
    return this.xs.host.now();
  }
}

function asciiOf(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/** One whole message by websock_recv (700-byte reads, as the Node test), or the negative code it ended with; null on a recv timeout. */
async function recvMessage(api: WebsockApi, h: websock_handle_t, timeout = 5000): Promise<{ opcode: number; text: string } | number | null> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(700);
  let text = "";
  let opcode = -1;
  for (;;) {
    const n = await api.websock_recv(h, hdr, buf, buf.length, timeout);
    if (n < 0) return n;
    if (hdr.opcode < 0) return null;
    if (opcode < 0) opcode = hdr.opcode;
    text += asciiOf(buf.subarray(0, n));
    if (hdr.fin && hdr.bytesleft === 0) return { opcode, text };
  }
}

async function open(api: WebsockApi, t: Checks, port: number, extra: Partial<websock_config_t> = {}): Promise<websock_handle_t | null> {
  const h = await api.websock_open({ hostname: "127.0.0.1", port, rx_buffer_size: 1024, tx_buffer_size: 1024, time_out: 5000, ...extra });
  t.ok(h !== null, `websock_open: ${api.websock_last_error().name} ${api.websock_last_error().message}`);
  return h;
}

function describeEnd(api: WebsockApi, h: websock_handle_t, got: unknown): string {
  const e = api.websock_last_error(h);
  return `${typeof got === "number" ? `code ${got}` : got === null ? "a recv timeout" : "a message"} (${e.name}: ${e.message}, close_code ${String(e.close_code)})`;
}

// ---- the scenarios ----

/** The server sent 6 messages, close 4000 "bye" and its FIN in one write; the application reads with a pause after each. */
async function lateReader(api: WebsockApi, clock: Clock, t: Checks, port: number): Promise<void> {
  const h = await open(api, t, port, { close_timeout: 500 });
  if (h === null) return;
  for (let i = 0; i < 6; i++) {
    const m = await recvMessage(api, h);
    if (!t.ok(m !== null && typeof m !== "number", `message ${i}: ended with ${describeEnd(api, h, m)}`)) break;
    t.sameText((m as { text: string }).text, lateMessage(i), `message ${i}`);
    // A little async work per message: the FIN has long arrived by the time the next recv runs.
    await clock.sleep(2);
  }
  const end = await recvMessage(api, h);
  t.equal(end, WEBSOCK_ERR.CLOSED_BY_PEER, `after the messages, websock_recv: ${describeEnd(api, h, end)}`);
  const e = api.websock_last_error(h);
  t.equal(e.close_code, 4000, "the server's close code");
  t.equal(e.close_reason, "bye", "the server's close reason");
  t.ok((await clock.within(2000, api.websock_close(h))) !== TIMED_OUT, "websock_close settles within 2000 ms");
}

/** 200 sends issued without awaiting, then websock_close: every promise resolves 0 (the server checks order and the close). */
async function unawaitedSends(api: WebsockApi, clock: Clock, t: Checks, port: number): Promise<void> {
  const h = await open(api, t, port);
  if (h === null) return;
  const sends: Array<Promise<number>> = [];
  for (let i = 0; i < 200; i++) sends.push(api.websock_send_text(h, `m${i}`));
  t.ok((await clock.within(6000, api.websock_close(h))) !== TIMED_OUT, "websock_close settles within 6000 ms");
  const codes = await clock.within(1000, Promise.all(sends));
  if (!t.ok(codes !== TIMED_OUT, "every send settles")) return;
  const wrong = (codes as number[]).map((c, i) => [i, c]).filter(([, c]) => c !== 0);
  t.equal(wrong.length, 0, `sends that did not resolve 0 (first: ${wrong.slice(0, 3).map(([i, c]) => `#${i} ${c}`).join(", ")})`);
}

/** A 50 KiB binary frame of which 49 KiB arrived, then a reset: every byte that arrived, then the error with 1006. */
async function resetMidMessage(api: WebsockApi, clock: Clock, t: Checks, port: number, report: CloseReport): Promise<void> {
  const sent = 49 * 1024;
  const h = await open(api, t, port);
  if (h === null) return;
  // The server resets after 300 ms: read only once it has.
  await clock.sleep(500);
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(4096);
  let total = 0;
  let wrongByte = -1;
  let n: number;
  for (;;) {
    n = await api.websock_recv(h, hdr, buf, buf.length, 3000);
    if (n < 0) break;
    if (!t.ok(hdr.opcode >= 0, "no recv timeout: the end must come")) break;
    for (let i = 0; i < n; i++) if (buf[i] !== 5 && wrongByte < 0) wrongByte = total + i;
    total += n;
  }
  report.delivered = total;
  t.equal(total, sent, "bytes delivered before the reset's error");
  t.equal(wrongByte, -1, "the first byte that is not the server's 5");
  t.ok(n === WEBSOCK_ERR.IO || n === WEBSOCK_ERR.CONNECTION_LOST, `the end is IO or CONNECTION_LOST: ${describeEnd(api, h, n)}`);
  t.equal(api.websock_last_error(h).close_code, 1006, "close_code after the reset");
  t.ok((await clock.within(2000, api.websock_close(h))) !== TIMED_OUT, "websock_close settles within 2000 ms");
}

/** The stress runs Node drew, for at most `budgetMs`: every message, the close code, websock_close settled, each time. */
async function stress(api: WebsockApi, clock: Clock, t: Checks, port: number, runs: StressRun[], budgetMs: number, report: CloseReport): Promise<void> {
  const deadline = clock.now() + budgetMs;
  let done = 0;
  let messages = 0;
  for (; done < runs.length && clock.now() < deadline; done++) {
    const run = runs[done];
    const failuresBefore = t.failures.length;
    const h = await open(api, t, port, { uri: `/run/${done}`, rx_buffer_size: run.rxBufferSize, close_timeout: 1000 });
    if (h === null) break;
    for (let i = 0; i < run.sizes.length; i++) {
      const m = await recvMessage(api, h);
      if (!t.ok(m !== null && typeof m !== "number", `run ${done}: message ${i} of ${run.sizes.length}: ended with ${describeEnd(api, h, m)}`)) break;
      t.sameText((m as { text: string }).text, stressMessage(done, i, run.sizes[i]), `run ${done}: message ${i}`);
      messages++;
      if (run.delays[i] > 0) await clock.sleep(run.delays[i]);
      // Sometimes answer: the send must settle, whatever its outcome.
      if (run.echoes[i]) t.ok((await clock.within(2000, api.websock_send_text(h, "echo"))) !== TIMED_OUT, `run ${done}: an echo send settles`);
    }
    const end = await recvMessage(api, h);
    t.equal(end, WEBSOCK_ERR.CLOSED_BY_PEER, `run ${done} (rx ${run.rxBufferSize}, ${run.sizes.length} messages): the end: ${describeEnd(api, h, end)}`);
    t.equal(api.websock_last_error(h).close_code, run.code, `run ${done}: the server's close code`);
    t.ok((await clock.within(2000, api.websock_close(h))) !== TIMED_OUT, `run ${done}: websock_close settles within 2000 ms`);
    // The first failing run says enough; the rest would repeat it.
    if (t.failures.length > failuresBefore) {
      done++;
      break;
    }
  }
  report.runs = done;
  report.messages = messages;
}

const SCENARIOS = ["late-reader", "unawaited-sends", "reset", "stress"] as const;
export type Scenario = (typeof SCENARIOS)[number];

let installed: { api: WebsockApi; xs: XsTestHost; clock: Clock } | null = null;

/** Begins one scenario against the server on `port`; its REPORT goes to Node when it ends. */
export function start(scenario: Scenario, port: number, runs: StressRun[] = [], budgetMs = 20000): void {
  if (installed === null) {
    const xs = installXsTestHost();
    installed = { api: createWebsock(xs.host), xs, clock: new Clock(xs) };
  }
  const { api, xs, clock } = installed;
  const t = new Checks();
  const report: CloseReport = { assertions: 0, failures: t.failures };
  let work: Promise<void>;
  if (scenario === "late-reader") work = lateReader(api, clock, t, port);
  else if (scenario === "unawaited-sends") work = unawaitedSends(api, clock, t, port);
  else if (scenario === "reset") work = resetMidMessage(api, clock, t, port, report);
  else if (scenario === "stress") work = stress(api, clock, t, port, runs, budgetMs, report);
  else work = Promise.resolve().then(() => void t.ok(false, `unknown scenario ${String(scenario)}`));
  work
    .catch((e: unknown) => {
      t.ok(false, `the scenario threw ${String(e)}`);
    })
    .then(() => {
      report.assertions = t.assertions;
      xs.report(report);
    });
}
