/// <reference path="../../hosts/xs-test/xsnap-globals.d.ts" />
// Bundled and evaluated inside the xsnap worker: client sessions with
// permessage-deflate through the websock_* API over the XS test host. The
// offer, the check of the answer, the inflater and the framer run here, in
// XS; the Node process (deflate-session.xs-test.ts) relays the bytes to a ws
// server that compresses everything it sends.

import { Checks } from "./checks.js";
import { installXsTestHost } from "../../hosts/xs-test/xs-test-host.js";
import { WEBSOCK_OK, WEBSOCK_OP, createWebsock, websock_msg_hdr_init, type WebsockApi } from "../../src/websock.js";
import type { websock_handle_t } from "../../src/types.js";
import { payloadBytes } from "../vectors/runner.js";

const READ_SIZE = 700;

export interface DeflateSessionReport {
  assertions: number;
  failures: string[];
  /** Per window: the bits agreed and the bytes echoed. */
  sessions: Array<{ bits: number; noContext: boolean; bytes: number }>;
}

function telemetry(n: number): string {
  let s = "";
  for (let i = 0; s.length < n; i++) s += `{"sensor":${i % 9},"value":${i * 3},"unit":"\u00b0C"},`;
  return s.slice(0, n);
}

async function receive(api: WebsockApi, h: websock_handle_t, t: Checks, what: string): Promise<{ opcode: number; payload: Uint8Array } | null> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(READ_SIZE);
  const parts: Uint8Array[] = [];
  let opcode = -1;
  let consistent = true;
  let length = 0;
  for (;;) {
    const n = await api.websock_recv(h, hdr, buf, READ_SIZE, 5000);
    if (n < 0 || hdr.opcode < 0) {
      t.ok(false, `${what}: websock_recv returned ${n} (${api.websock_last_error(h).message})`);
      return null;
    }
    if (opcode === -1) opcode = hdr.opcode;
    if (n > READ_SIZE || hdr.offset + n + hdr.bytesleft !== hdr.payload_len) consistent = false;
    parts.push(buf.slice(0, n));
    length += n;
    if (hdr.fin && hdr.bytesleft === 0) break;
  }
  t.ok(consistent, `${what}: every piece fits, offset + n + bytesleft = payload_len`);
  const payload = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    payload.set(p, at);
    at += p.length;
  }
  return { opcode, payload };
}

async function session(api: WebsockApi, port: number, bits: number, noContext: boolean, t: Checks, report: DeflateSessionReport): Promise<void> {
  const where = `window ${bits}${noContext ? ", no context takeover" : ""}`;
  const h = await api.websock_open({
    hostname: "127.0.0.1", port, uri: "/echo", rx_buffer_size: 512, tx_buffer_size: 1024, time_out: 5000, close_timeout: 3000,
    deflate: { server_max_window_bits: bits, server_no_context_takeover: noContext },
  });
  if (!t.ok(h !== null, `${where}: websock_open: ${api.websock_last_error().message}`)) return;
  const info = api.websock_get_info(h!);
  t.equal(info?.deflate?.server_max_window_bits, bits, `${where}: the window agreed`);
  t.equal(info?.deflate?.server_no_context_takeover, noContext, `${where}: server_no_context_takeover agreed`);
  let bytes = 0;
  const text = telemetry(20000) + "\u{1F680}\u20ac";
  for (let round = 0; round < 2; round++) {
    t.equal(await api.websock_send_text(h!, text), WEBSOCK_OK, `${where}: send text`);
    const m = await receive(api, h!, t, `${where}: text`);
    if (m === null) return;
    t.equal(m.opcode, WEBSOCK_OP.TEXT, `${where}: echoed as text`);
    t.sameBytes(m.payload, payloadBytes({ text }), `${where}: the inflated text`);
    bytes += m.payload.length;
    const binary = payloadBytes({ pattern: 30000 });
    t.equal(await api.websock_send_binary(h!, binary), WEBSOCK_OK, `${where}: send binary`);
    const b = await receive(api, h!, t, `${where}: binary`);
    if (b === null) return;
    t.sameBytes(b.payload, binary, `${where}: the inflated binary`);
    bytes += b.payload.length;
  }
  await api.websock_close(h!);
  report.sessions.push({ bits, noContext, bytes });
}

/** Begins the sessions (windows 9, 12 and 15); the REPORT goes to Node when they end. */
export function start(port: number): void {
  const xs = installXsTestHost();
  const api = createWebsock(xs.host);
  const t = new Checks();
  const report: DeflateSessionReport = { assertions: 0, failures: t.failures, sessions: [] };
  (async () => {
    for (const [bits, noContext] of [[9, false], [12, true], [15, false]] as Array<[number, boolean]>) await session(api, port, bits, noContext, t, report);
  })()
    .catch((e: unknown) => {
      t.ok(false, `the session threw ${String(e)}`);
    })
    .then(() => {
      report.assertions = t.assertions;
      xs.report(report);
    });
}
