/// <reference path="../../hosts/xs-test/xsnap-globals.d.ts" />
// Bundled with test/xs/moddable-bundle.ts and evaluated inside the xsnap
// worker: reconnect on the Moddable host (hosts/moddable over the ECMA-419
// TCP emulation). Node (moddable-reconnect.xs-test.ts) plays the peer: a raw
// server whose connections drop, answer 503, reset mid-handshake, or never
// answer. Each scenario ends with one REPORT.

import { Checks } from "./checks.js";
import type { ReconnectReport } from "./moddable-reports.js";
import {
  WEBSOCK_ERR,
  WEBSOCK_OK,
  websock_close,
  websock_get_info,
  websock_last_error,
  websock_msg_hdr_init,
  websock_open,
  websock_recv,
  websock_send_text,
  type websock_config_t,
  type websock_handle_t,
} from "websock";
import { emulation, pendingTimers, report } from "../../hosts/xs-test/moddable-shims/runtime.js";
import Timer from "../../hosts/xs-test/moddable-shims/timer.js";

const RX = 1024;

function config(port: number, extra: Partial<websock_config_t>): websock_config_t {
  return { hostname: "127.0.0.1", port, rx_buffer_size: RX, tx_buffer_size: RX, time_out: 5000, close_timeout: 300, ...extra };
}

function textOf(buf: Uint8Array, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(buf[i]);
  return s;
}

/** The next piece as { n, text }; waits through "nothing yet". */
async function next(h: websock_handle_t): Promise<{ n: number; text: string }> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(RX);
  for (let i = 0; i < 200; i++) {
    const n = await websock_recv(h, hdr, buf, RX, 100);
    if (n === 0 && hdr.opcode < 0) continue;
    return { n, text: n > 0 ? textOf(buf, n) : "" };
  }
  return { n: NaN, text: "" };
}

/** Reads with short timeouts until `ok` holds (the reader's loop, as an app has). */
async function readUntil(h: websock_handle_t, ok: () => boolean): Promise<boolean> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(RX);
  for (let i = 0; i < 200 && !ok(); i++) await websock_recv(h, hdr, buf, RX, 20);
  return ok();
}

/** Whether websock_close(h) settles before a 0 ms timer set at the same moment fires (within one timer turn). */
function closesWithinOneTurn(h: websock_handle_t): Promise<boolean> {
  return new Promise((resolve) => {
    let closed = false;
    Timer.set(() => resolve(closed), 0);
    void websock_close(h).then(() => {
      closed = true;
    });
  });
}


/**
 * The peer's script, by each handle's path and its connections there. /a: 1
 * opens and sends "one" then drops; 2 answers 503 (Retry-After: 0); 3
 * resets mid-handshake; 4 opens and sends "two", then drops; 5 never
 * answers (websock_close during that attempt). /b: 1 opens and drops; 2
 * answers 503 with Date and an HTTP-date Retry-After an hour later
 * (websock_close during that wait). Through the proxy on `proxyPort`,
 * /start redirects to /moved: /moved 1 opens and drops, /moved 2 sends
 * "three" and drops; the attempt after it (/start 3) is never answered
 * (websock_close during that attempt, whether its CONNECT or its request is
 * still on the way).
 */
export function runReconnect(port: number, pollMs: number, proxyPort: number): void {
  emulation.tcpPollMs = pollMs;
  const t = new Checks();
  const out: ReconnectReport = { assertions: 0, failures: t.failures, attempts: 0, reconnects: 0, timersLeft: 0 };
  (async () => {
    let subscribed = 0;
    const fast = { first_delay: 0, min_delay: 1, max_delay: 10 };
    const h = await websock_open(config(port, {
      uri: "/a",
      reconnect: fast,
      on_open: (handle) => {
        subscribed++;
        void websock_send_text(handle, `sub ${subscribed}`);
      },
    }));
    if (!t.ok(h !== null, `open: ${websock_last_error().message}`)) return;
    t.equal((await next(h!)).text, "one", "the first connection's message");
    t.equal((await next(h!)).n, WEBSOCK_ERR.RECONNECTED, "RECONNECTED once, after the drop, the 503 and the reset");
    t.equal((await next(h!)).text, "two", "then the new connection's message");
    const info = websock_get_info(h!)!;
    t.equal(info.attempts, 3, "attempts: the 503, the reset, the one that opened");
    t.equal(info.reconnects, 1, "reconnects");
    t.equal(subscribed, 2, "on_open ran at each open");
    // /a 4 drops; the attempt after it (/a 5) is never answered.
    t.ok(await readUntil(h!, () => websock_get_info(h!)!.attempts === 4), "the 4th attempt started");
    t.equal(websock_get_info(h!)!.state, "CONNECTING", "state during an attempt");
    t.ok(await closesWithinOneTurn(h!), "websock_close during a connect attempt settles within one timer turn");

    // max_delay an hour: the clamp of an HTTP-date Retry-After.
    const h2 = await websock_open(config(port, { uri: "/b", reconnect: { first_delay: 0, min_delay: 1, max_delay: 3600000 } }));
    if (!t.ok(h2 !== null, `open 2: ${websock_last_error().message}`)) return;
    t.ok(await readUntil(h2!, () => websock_get_info(h2!)!.last_failure?.http_status === 503), "the 503 with an HTTP-date Retry-After came");
    t.equal(websock_get_info(h2!)!.state, "CONNECTING", "state while waiting out Retry-After");
    t.equal(websock_get_info(h2!)!.retry_delay, 3600000, "the wait is Retry-After minus the response's Date");
    const held = websock_send_text(h2!, "held while down");
    t.ok(await closesWithinOneTurn(h2!), "websock_close during the backoff wait settles within one timer turn");
    t.equal(await held, WEBSOCK_ERR.CLOSED_LOCALLY, "a send held while down fails with CLOSED_LOCALLY when the handle is closed");

    const h3 = await websock_open(config(port, { uri: "/start", proxy: `http://127.0.0.1:${proxyPort}`, follow_redirects: 1, reconnect: fast }));
    if (!t.ok(h3 !== null, `open 3: ${websock_last_error().message}`)) return;
    t.equal(websock_get_info(h3!)!.url, `ws://127.0.0.1:${port}/moved`, "the first open followed the redirect through the proxy");
    t.equal((await next(h3!)).n, WEBSOCK_ERR.RECONNECTED, "RECONNECTED through the proxy, after the attempt's own redirect");
    t.equal((await next(h3!)).text, "three", "then the new connection's message");
    const info3 = websock_get_info(h3!)!;
    t.equal(info3.attempts, 1, "a redirect is a hop of the attempt, not an attempt");
    t.equal(info3.redirects, 1, "redirects of the attempt that opened");
    t.equal(info3.url, `ws://127.0.0.1:${port}/moved`, "url of the attempt that opened");
    t.ok(await readUntil(h3!, () => websock_get_info(h3!)!.attempts === 2), "the 2nd attempt through the proxy started");
    t.equal(websock_get_info(h3!)!.state, "CONNECTING", "state during an attempt through the proxy");
    t.ok(await closesWithinOneTurn(h3!), "websock_close during a connect attempt through a proxy settles within one timer turn");
    out.attempts = info.attempts ?? 0;
    out.reconnects = info.reconnects ?? 0;
  })()
    .catch((e: unknown) => t.ok(false, `threw ${String(e)}`))
    .then(() => {
      // Nothing left behind: no timer of either handle still set.
      Timer.set(() => {
        out.timersLeft = pendingTimers();
        out.assertions = t.assertions;
        report(out);
      }, 10);
    });
}

export { WEBSOCK_OK };
