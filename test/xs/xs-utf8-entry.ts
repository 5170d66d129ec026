/// <reference path="../../hosts/xs-test/xsnap-globals.d.ts" />
// Bundled and evaluated inside an xsnap worker with websock's UTF-8 writer
// (tools/xsnap-utf8/build.mjs): the cases of utf8-cases.ts sent as text
// messages through a 256-byte tx buffer to a real `ws` server (masked, as a
// client sends), each one awaited; and the writer called directly, every
// text at every room from 1 to 8 bytes, its output returned to Node to
// compare with Node's TextEncoder. utf8-writer.xs-test.ts checks both.

import { installXsTestHost } from "../../hosts/xs-test/xs-test-host.js";
import { WEBSOCK_OK, createWebsock } from "../../src/websock.js";
import type { Utf8Writer } from "../../src/text-cursor.js";
import { TX_BUFFER, textCases } from "./utf8-cases.js";

export interface Utf8Report {
  failures: string[];
  sent: number;
  /** The writer's calls while sending (the host used it). */
  writerCalls: number;
}

/** The worker's writer; utf8-writer.xs-test.ts wraps it, before this bundle loads, to count its calls in utf8WriterCalls. */
const writer = (globalThis as { WebsockUtf8Writer?: Utf8Writer }).WebsockUtf8Writer ?? null;

/** Sends every case over one connection; reports to Node when done. */
export function start(port: number): void {
  const testHost = installXsTestHost();
  const api = createWebsock(testHost.host);
  const report: Utf8Report = { failures: [], sent: 0, writerCalls: 0 };
  void (async () => {
    if (testHost.host.utf8Writer == null) report.failures.push("the XS test host has no utf8Writer");
    const h = await api.websock_open({ hostname: "127.0.0.1", port, uri: "/record", rx_buffer_size: 256, tx_buffer_size: TX_BUFFER, time_out: 5000 });
    if (h === null) {
      report.failures.push(`open: ${api.websock_last_error().message}`);
    } else {
      for (const c of textCases()) {
        const r = await api.websock_send_text(h, c.text, c.len);
        if (r !== WEBSOCK_OK) report.failures.push(`${c.what}: websock_send_text returned ${r} (${api.websock_last_error(h).message})`);
        else report.sent++;
      }
      await api.websock_close(h);
    }
    report.writerCalls = (globalThis as { utf8WriterCalls?: number }).utf8WriterCalls ?? -1;
    testHost.report(report);
  })();
}

/**
 * The writer alone: each case's text written with `room` bytes per call
 * (a character that does not fit goes through a 4-byte spill, as the cursor
 * does), for every room from 1 to 8, plus checks of its argument errors.
 * The bytes come back as hex strings (ASCII JSON).
 */
export function direct(): ArrayBuffer {
  const w = writer!;
  const words = new Uint32Array(2);
  const state = new Uint8Array(words.buffer);
  const out = new Uint8Array(16);
  const spill = new Uint8Array(4);
  const results: string[][] = [];
  const cases = textCases().slice(0, 16);
  for (const c of cases) {
    const perRoom: string[] = [];
    for (let room = 1; room <= 8; room++) {
      words[0] = 0;
      words[1] = c.len ?? c.text.length;
      const hex: string[] = [];
      for (let guard = 0; words[1] > 0 && guard < 1000; guard++) {
        // Writes at an offset of 3 in `out`, so start/end are not 0/length.
        const n = w.write(c.text, state, out, 3, 3 + room);
        for (let i = 0; i < n; i++) hex.push(byteHex(out[3 + i]));
        if (words[1] > 0 && n < room) {
          const m = w.write(c.text, state, spill, 0, 4);
          if (m === 0) hex.push("STUCK");
          for (let i = 0; i < m; i++) hex.push(byteHex(spill[i]));
        }
      }
      perRoom.push(hex.join(""));
    }
    results.push(perRoom);
  }
  const errors: string[] = [];
  const attempt = (what: string, f: () => unknown) => {
    try {
      f();
      errors.push(`${what}: no error`);
    } catch (e) {
      errors.push(`${what}: ${(e as Error).name}`);
    }
  };
  words[0] = 0;
  words[1] = 1;
  attempt("not a string", () => w.write(42 as unknown as string, state, out, 0, 4));
  attempt("state too short", () => w.write("a", new Uint8Array(4), out, 0, 4));
  attempt("end past out", () => w.write("a", state, out, 0, 17));
  attempt("start after end", () => w.write("a", state, out, 5, 4));
  attempt("negative start", () => w.write("a", state, out, -1, 4));
  attempt("offset inside a character", () => w.write("\u00e9\u00e9", new Uint8Array(new Uint32Array([1, 1]).buffer), out, 0, 4));
  return asciiJson({ results, errors });
}

function byteHex(b: number): string {
  return (b < 16 ? "0" : "") + b.toString(16);
}

function asciiJson(value: unknown): ArrayBuffer {
  const json = JSON.stringify(value);
  const bytes = new Uint8Array(json.length);
  for (let i = 0; i < json.length; i++) bytes[i] = json.charCodeAt(i) & 0x7f;
  return bytes.buffer;
}
