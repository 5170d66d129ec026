/// <reference path="../../hosts/xs-test/xsnap-globals.d.ts" />
// Bundled and evaluated inside the xsnap worker: a whole client session with
// the websock_* API over the XS test host. The handshake, the framer, UTF-8
// validation and the connection state machine all run here, in XS; the Node
// process (session.xs-test.ts, relay.ts) only relays TCP bytes and timers
// to and from a real `ws` server on 127.0.0.1 (test/support/ws-server.ts).
//
// start(port) begins the session and returns; it goes on in the deliveries
// that bring socket and timer events, and ends with one REPORT to Node:
// how many assertions ran here, and which failed.

import { Checks } from "./checks.js";
import { installXsTestHost } from "../../hosts/xs-test/xs-test-host.js";
import { WEBSOCK_ERR, WEBSOCK_OK, WEBSOCK_OP, createWebsock, websock_msg_hdr_init, type WebsockApi } from "../../src/websock.js";
import type { websock_config_t, websock_handle_t } from "../../src/types.js";
import { payloadBytes } from "../vectors/runner.js";

/** The receive buffer every connection of the session uses (and the application's read size). */
export const RX_BUFFER = 1024;
const RECV_TIMEOUT = 5000;

export interface SessionReport {
  assertions: number;
  failures: string[];
  /** What each echoed message took: its length and how many websock_recv pieces it came in. */
  messages: Array<{ what: string; length: number; pieces: number }>;
  connections: number;
}


/** Bytes (i * 31 + 7) & 0xff, as the vectors' `pattern` payloads. */
function pattern(n: number): Uint8Array {
  return payloadBytes({ pattern: n });
}

interface Message {
  opcode: number;
  payload: Uint8Array;
  pieces: number;
}

/**
 * Receives one whole message through websock_recv with a RX_BUFFER-byte
 * buffer, checking that every piece fits it and that offset, length and
 * bytesleft add up. Returns null (after a failed check) on error or timeout.
 */
async function receiveMessage(api: WebsockApi, h: websock_handle_t, t: Checks, what: string): Promise<Message | null> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(RX_BUFFER);
  const parts: Uint8Array[] = [];
  let opcode = -1;
  let pieces = 0;
  let consistent = true;
  let total = 0;
  for (;;) {
    const n = await api.websock_recv(h, hdr, buf, RX_BUFFER, RECV_TIMEOUT);
    if (n < 0) {
      t.ok(false, `${what}: websock_recv returned ${n} (${api.websock_last_error(h).message})`);
      return null;
    }
    if (hdr.opcode < 0) {
      t.ok(false, `${what}: nothing arrived within ${RECV_TIMEOUT} ms`);
      return null;
    }
    pieces++;
    if (opcode === -1) opcode = hdr.opcode;
    // Each piece: at most the buffer, and where it sits in its frame.
    if (n > RX_BUFFER || hdr.offset + n + hdr.bytesleft !== hdr.payload_len) consistent = false;
    if (hdr.offset === 0 && hdr.opcode !== opcode && hdr.opcode !== WEBSOCK_OP.CONTINUATION) consistent = false;
    if (hdr.offset !== 0 && hdr.offset !== total) consistent = false;
    total = hdr.bytesleft === 0 ? 0 : hdr.offset + n;
    parts.push(buf.slice(0, n));
    if (hdr.fin && hdr.bytesleft === 0) break;
  }
  t.ok(consistent, `${what}: every piece fits the ${RX_BUFFER}-byte buffer, and offset + n + bytesleft = payload_len`);
  let length = 0;
  for (const p of parts) length += p.length;
  const payload = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    payload.set(p, at);
    at += p.length;
  }
  return { opcode, payload, pieces };
}

async function open(api: WebsockApi, t: Checks, port: number, uri: string, states: string[] = ["OPEN"]): Promise<websock_handle_t | null> {
  const cfg: websock_config_t = { hostname: "127.0.0.1", port, uri, rx_buffer_size: RX_BUFFER, tx_buffer_size: RX_BUFFER, time_out: 5000, close_timeout: 3000 };
  const h = await api.websock_open(cfg);
  if (!t.ok(h !== null, `websock_open ${uri}: ${api.websock_last_error().name} ${api.websock_last_error().message}`)) return null;
  const info = api.websock_get_info(h!);
  t.ok(states.includes(info?.state ?? ""), `${uri}: state after open is ${info?.state}, expected ${states.join(" or ")}`);
  t.equal(info?.http_status, 101, `${uri}: the server's status`);
  return h;
}

async function echo(api: WebsockApi, h: websock_handle_t, t: Checks, report: SessionReport): Promise<void> {
  const texts = [
    "hello from XS",
    "h\u00e9llo w\u00f6rld \u2713 \u{1F680}",
    // Longer than the rx buffer, multi-byte characters split across pieces.
    `${"x".repeat(700)}${"\u20ac".repeat(400)}${"\u{1F600}".repeat(300)}`,
  ];
  for (const text of texts) {
    const what = `text of ${text.length} UTF-16 units`;
    t.equal(await api.websock_send_text(h, text), WEBSOCK_OK, `${what}: websock_send_text`);
    const m = await receiveMessage(api, h, t, what);
    if (m === null) return;
    t.equal(m.opcode, WEBSOCK_OP.TEXT, `${what}: echoed as text`);
    t.sameBytes(m.payload, payloadBytes({ text }), `${what}: echoed UTF-8 bytes`);
    report.messages.push({ what, length: m.payload.length, pieces: m.pieces });
  }
  // A text message given as UTF-8 bytes: validated before it is sent.
  const utf8 = payloadBytes({ text: "bytes \u00e0 la carte \u2603" });
  t.equal(await api.websock_send_text(h, utf8), WEBSOCK_OK, "text given as UTF-8 bytes: websock_send_text");
  const m = await receiveMessage(api, h, t, "text given as UTF-8 bytes");
  if (m === null) return;
  t.sameBytes(m.payload, utf8, "text given as UTF-8 bytes: echoed");
  // Invalid UTF-8 is refused, not sent (the server would fail us with 1007).
  t.equal(await api.websock_send_text(h, Uint8Array.of(0x61, 0xc3, 0x28)), WEBSOCK_ERR.INVALID_ARG, "invalid UTF-8 text is refused");

  // Binary at every length class (7-bit, 16-bit, 64-bit) and 1 MiB through the 1 KiB buffer.
  for (const n of [0, 1, 125, 126, 1000, 1025, 65535, 65536, 1 << 20]) {
    const what = `binary of ${n} bytes`;
    const payload = pattern(n);
    t.equal(await api.websock_send_binary(h, payload), WEBSOCK_OK, `${what}: websock_send_binary`);
    t.sameBytes(payload, pattern(n), `${what}: the caller's payload is not modified by masking`);
    const echoed = await receiveMessage(api, h, t, what);
    if (echoed === null) return;
    t.equal(echoed.opcode, WEBSOCK_OP.BINARY, `${what}: echoed as binary`);
    t.sameBytes(echoed.payload, payload, `${what}: echoed bytes`);
    t.ok(echoed.pieces >= Math.ceil(n / RX_BUFFER), `${what}: came in ${echoed.pieces} pieces of at most ${RX_BUFFER} bytes`);
    report.messages.push({ what, length: n, pieces: echoed.pieces });
  }
}

async function session(api: WebsockApi, port: number, t: Checks, report: SessionReport): Promise<void> {
  // 1. Echo, then a close from this side with a code and a reason.
  const h = await open(api, t, port, "/echo");
  if (h !== null) {
    await echo(api, h, t, report);
    t.equal(await api.websock_close_with_code(h, 4000, "done in XS \u2713"), WEBSOCK_OK, "websock_close_with_code 4000");
    t.equal(api.websock_get_info(h), null, "the handle is released after close");
  }

  // 2. A ping from the server is answered inside websock_recv; the server checks the pong.
  const p = await open(api, t, port, "/ping");
  if (p !== null) {
    t.equal(await api.websock_send_text(p, "ping me, XS"), WEBSOCK_OK, "/ping: the message that makes the server ping");
    const hdr = websock_msg_hdr_init();
    const buf = new Uint8Array(RX_BUFFER);
    // Nothing but the ping arrives: recv answers it and times out with nothing to deliver.
    t.equal(await api.websock_recv(p, hdr, buf, RX_BUFFER, 500), 0, "/ping: websock_recv delivers no ping (it answers it)");
    t.equal(hdr.opcode, -1, "/ping: header says nothing arrived");
    await api.websock_close(p);
  }

  // 3. A close from the server with a code and a reason. When it comes in the
  // same segment as the 101, the close handshake is over by the time open returns.
  const c = await open(api, t, port, "/close4001", ["OPEN", "CLOSED"]);
  if (c !== null) {
    const hdr = websock_msg_hdr_init();
    const buf = new Uint8Array(RX_BUFFER);
    t.equal(await api.websock_recv(c, hdr, buf, RX_BUFFER, RECV_TIMEOUT), WEBSOCK_ERR.CLOSED_BY_PEER, "/close4001: websock_recv ends with CLOSED_BY_PEER");
    const e = api.websock_last_error(c);
    t.equal(e.close_code, 4001, "/close4001: the server's close code");
    t.equal(e.close_reason, "going away now", "/close4001: the server's close reason");
    await api.websock_close(c);
  }

  // 4. A refused upgrade carries its HTTP status.
  const r = await api.websock_open({ hostname: "127.0.0.1", port, uri: "/404", time_out: 5000 });
  t.equal(r, null, "/404: websock_open fails");
  t.equal(api.websock_last_error().http_status, 404, "/404: the status is reported");
}

/** Begins the session; its REPORT goes to Node when it ends. */
export function start(port: number): void {
  const xs = installXsTestHost();
  const api = createWebsock(xs.host);
  const t = new Checks();
  const report: SessionReport = { assertions: 0, failures: t.failures, messages: [], connections: 0 };
  session(api, port, t, report)
    .catch((e: unknown) => {
      t.ok(false, `the session threw ${String(e)}`);
    })
    .then(() => {
      report.assertions = t.assertions;
      report.connections = xs.connections;
      xs.report(report);
    });
}
