/// <reference path="../../hosts/xs-test/xsnap-globals.d.ts" />
// Bundled with test/xs/moddable-bundle.ts and evaluated inside an xsnap
// worker built with websock's mbedTLS engine (tools/xsnap-tls/build.mjs):
// hosts/moddable as a Moddable app imports it, wss:// through
// mbedtls-transport.ts and websock_tls.c, over the ECMA-419 TCP emulation.
// The relay carries ciphertext to Node's tls servers; the TLS is done here.
//
// Each call from Node ends with one REPORT.

import {
  websock_close,
  websock_get_info,
  websock_last_error,
  websock_msg_hdr_init,
  websock_open,
  websock_recv,
  websock_send_text,
  type websock_config_t,
  type websock_error_t,
  type websock_handle_t,
} from "websock";
import TLSEngine from "websock/hosts/moddable/mbedtls/tls-engine";
import { emulation, report } from "../../hosts/xs-test/moddable-shims/runtime.js";
import type { TlsOpenReport } from "./moddable-reports.js";

/** Config JSON from Node: a string "hex:..." stands for DER bytes. */
function revive(_key: string, value: unknown): unknown {
  if (typeof value !== "string" || !value.startsWith("hex:")) return value;
  const hex = value.slice(4);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function textOf(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

async function openOnce(config: websock_config_t, echo: string): Promise<TlsOpenReport> {
  const h = await websock_open(config);
  const out: TlsOpenReport = { opened: h !== null, error: websock_last_error(h) };
  if (h === null) return out;
  out.tls = websock_get_info(h)?.tls;
  if (echo !== "") {
    if ((await websock_send_text(h, echo)) === 0) {
      // The whole message, in pieces of at most 256 bytes.
      const hdr = websock_msg_hdr_init();
      const buf = new Uint8Array(256);
      let text = "";
      for (;;) {
        const n = await websock_recv(h, hdr, buf, buf.length, 5000);
        if (n < 0 || hdr.opcode < 0) {
          text = `recv ${n}: ${websock_last_error(h).message}`;
          break;
        }
        text += textOf(buf.subarray(0, n));
        if (hdr.fin && hdr.bytesleft === 0) break;
      }
      out.echoed = text;
    }
  }
  await websock_close(h);
  return out;
}

export function capabilities(): void {
  report(TLSEngine.capabilities());
}

/** One websock_open with `configJson`, an echo of `echo` when not "", then close. */
export function openTls(configJson: string, echo: string, pollMs: number): void {
  emulation.tcpPollMs = pollMs;
  const config = JSON.parse(configJson, revive) as websock_config_t;
  openOnce(config, echo).then(report, (e: unknown) => report({ opened: false, error: { code: 0, name: "THREW", message: String(e) } }));
}

/** `rounds` times through the configs in turn (each a whole open, or a failed one): the count of each outcome. */
export function manyOpens(configsJson: string, rounds: number, pollMs: number): void {
  emulation.tcpPollMs = pollMs;
  const configs = JSON.parse(configsJson, revive) as websock_config_t[];
  const outcomes: Record<string, number> = {};
  const run = async (): Promise<void> => {
    for (let i = 0; i < rounds; i++) {
      const r = await openOnce(configs[i % configs.length], "");
      const key = r.opened ? "opened" : `${r.error.name}/${r.error.tls_reason ?? ""}`;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
  };
  run().then(() => report(outcomes), (e: unknown) => report({ threw: String(e) }));
}

// ---- tools/bench/mbedtls-memory.ts: one connection held open ----

interface HeapFigures {
  current: number;
  peak: number;
  allocations: number;
}

declare const websockTlsHeap: ((newPeak?: boolean) => HeapFigures) | undefined;

let held: websock_handle_t | null = null;

/** Opens and keeps the connection; reports mbedTLS's heap (its current figure, the handshake's peak). */
export function holdOpen(configJson: string, pollMs: number): void {
  emulation.tcpPollMs = pollMs;
  const config = JSON.parse(configJson, revive) as websock_config_t;
  const before = websockTlsHeap!(true);
  websock_open(config).then((h) => {
    held = h;
    const after = websockTlsHeap!(false);
    report({ opened: h !== null, error: websock_last_error(h), tls: h === null ? undefined : websock_get_info(h)?.tls, before, after });
  });
}

/** Closes the connection held; reports the heap after (all of the connection's given back). */
export function closeHeld(): void {
  const h = held;
  held = null;
  if (h === null) {
    report({ closed: false });
    return;
  }
  websock_close(h).then(() => report({ closed: true, after: websockTlsHeap!(false) }));
}
