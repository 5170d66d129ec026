// `npm run bench` (via run.mjs), or alone: `node --import tsx tools/bench/core-paths.ts`.
//
// The core alone, no I/O: payload MB/s of
//   receive: server frames (unmasked, as a server sends them) copied into the
//     rx buffer as a host does (Connection.receiveData), parsed, text
//     validated as UTF-8, and each piece copied out with Connection.read into
//     the application's buffer;
//   send: Sender.queueBytes / queueString then produce() until the frame is
//     out: the header, the payload copied (a string UTF-8 encoded) and masked
//     into the tx buffer, chunk by chunk;
// beside the physical reference, measured in the same run, alternating with
// the path: the same payload bytes copied once with Uint8Array.prototype.set,
// one call per piece the path moves (prepared views, so the reference
// allocates nothing). The receive path copies every byte twice (into the rx
// buffer, out of it), so 50% of copy is its ceiling.

import { performance } from "node:perf_hooks";
import { NOTHING_READY } from "../../src/connection.js";
import { benchConnection, sendThrough } from "./lib/bench-connection.js";
import { OutgoingMessage } from "../../src/outgoing.js";
import { utf8Length } from "../../src/utf8.js";
import type { websock_msg_hdr_t } from "../../src/types.js";

/** rx_buffer_size and tx_buffer_size (the defaults), and the application's read size. */
const BUFFER = Number(process.env.BENCH_BUFFER ?? 4096);
const READ = 65536;
const OPCODE_TEXT = 1;
const OPCODE_BINARY = 2;
/** Each measurement runs this long; path and copy alternate ROUNDS times and the best of each counts. */
const BUDGET_MS = 60;
const ROUNDS = 5;
/** Only the rows whose "direction type payload" contains this ("receive binary"); all when empty. */
const ONLY = process.env.BENCH_ONLY ?? "";
/** Input per pass: at least this many payload bytes (and at least one message). */
const PASS_BYTES = 256 * 1024;

const SIZES: Array<[string, number]> = [
  ["16 B", 16],
  ["1 KiB", 1024],
  ["64 KiB", 65536],
  ["1 MiB", 1048576],
];
type Kind = "text" | "binary" | "text, non-ASCII";
const CASES: Array<[Kind, string, number]> = [
  ...SIZES.map(([l, n]): [Kind, string, number] => ["text", l, n]),
  ["text, non-ASCII", "64 KiB", 65536],
  ...SIZES.map(([l, n]): [Kind, string, number] => ["binary", l, n]),
];

/** The payload as a string (text) and as bytes: printable ASCII, a byte pattern, or a mix of 1- to 4-byte characters. */
function makePayload(kind: Kind, size: number): { text: string; bytes: Uint8Array } {
  if (kind === "text, non-ASCII") {
    const pieces = ["a", "é", "Ж", "€", "語", "😀"];
    let text = "";
    let i = 0;
    while (utf8Length(text) < size - 4) text += pieces[i++ % pieces.length];
    while (utf8Length(text) < size) text += "a";
    return { text, bytes: new Uint8Array(Buffer.from(text, "utf8")) };
  }
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = kind === "text" ? 0x20 + ((i * 31 + 7) % 95) : (i * 31 + 7) & 0xff;
  return { text: Buffer.from(bytes).toString("latin1"), bytes };
}

/** An unmasked frame, as a server sends it. */
function serverFrame(opcode: number, body: Uint8Array): Uint8Array {
  const n = body.length;
  const head = n < 126 ? [0x80 | opcode, n] : n < 0x10000 ? [0x80 | opcode, 126, n >> 8, n & 255] : [0x80 | opcode, 127, 0, 0, 0, 0, n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255];
  const out = new Uint8Array(head.length + n);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** Runs `pass` (which moves `bytesPerPass` payload bytes) for BUDGET_MS; returns MB/s. */
function measure(pass: () => void, bytesPerPass: number): number {
  let bytes = 0;
  const started = performance.now();
  let now = started;
  do {
    pass();
    bytes += bytesPerPass;
    now = performance.now();
  } while (now - started < BUDGET_MS);
  return bytes / ((now - started) / 1000) / 1e6;
}

/** `count` copies of the payload's pieces as the path moves them: at most `piece` bytes each. */
function pieceViews(payload: Uint8Array, piece: number, count: number): Uint8Array[] {
  const views: Uint8Array[] = [];
  for (let m = 0; m < count; m++) {
    for (let at = 0; at < payload.length; at += piece) views.push(payload.subarray(at, Math.min(payload.length, at + piece)));
  }
  return views;
}

interface Case {
  path: () => void;
  copy: () => void;
  bytesPerPass: number;
}

function receiveCase(kind: Kind, size: number): Case {
  const conn = benchConnection(BUFFER);
  const { bytes } = makePayload(kind, size);
  const frame = serverFrame(kind === "binary" ? OPCODE_BINARY : OPCODE_TEXT, bytes);
  const count = Math.max(1, Math.floor(PASS_BYTES / size));
  const stream = new Uint8Array(frame.length * count);
  for (let m = 0; m < count; m++) stream.set(frame, m * frame.length);
  const hdr: websock_msg_hdr_t = { fin: false, opcode: -1, payload_len: 0, offset: 0, bytesleft: 0 };
  const out = new Uint8Array(READ);
  const expected = count * size;
  const path = (): void => {
    let delivered = 0;
    let at = 0;
    // As a host does: copy what fits into the rx buffer, read every piece out, repeat.
    while (at < stream.length) {
      at += conn.receiveData(stream, at, stream.length);
      for (;;) {
        conn.advance();
        const n = conn.read(hdr, out, 0, READ);
        if (n === NOTHING_READY) break;
        if (n < 0) throw new Error(`the core failed: ${conn.ending?.error.name}`);
        delivered += n;
      }
    }
    if (delivered !== expected) throw new Error(`received ${delivered} bytes, expected ${expected}`);
  };
  // The pieces websock_recv gives: at most what the rx buffer holds after a header.
  const views = pieceViews(bytes, BUFFER - 14, count);
  const copy = (): void => {
    for (let i = 0; i < views.length; i++) out.set(views[i], 0);
  };
  return { path, copy, bytesPerPass: expected };
}

function sendCase(kind: Kind, size: number): Case {
  const conn = benchConnection(BUFFER);
  const message = new OutgoingMessage();
  const { text, bytes } = makePayload(kind, size);
  const opcode = kind === "binary" ? OPCODE_BINARY : OPCODE_TEXT;
  const count = Math.max(1, Math.floor(PASS_BYTES / size));
  const header = size < 126 ? 6 : size < 0x10000 ? 8 : 14;
  const expected = count * (size + header);
  const path = (): void => {
    let produced = 0;
    for (let m = 0; m < count; m++) {
      // As websock_send_text(h, string) and websock_send_binary(h, bytes) queue them.
      if (kind === "binary") message.setBytes(opcode, true, bytes, 0, size);
      else message.setText(opcode, true, text, text.length);
      produced += sendThrough(conn, message);
    }
    if (produced !== expected) throw new Error(`produced ${produced} bytes, expected ${expected}`);
  };
  const tx = new Uint8Array(BUFFER);
  const views = pieceViews(bytes, BUFFER - header, count);
  const copy = (): void => {
    for (let i = 0; i < views.length; i++) tx.set(views[i], 0);
  };
  return { path, copy, bytesPerPass: count * size };
}

function best(c: Case): { path: number; copy: number } {
  // Warm up both (JIT), then alternate.
  c.path();
  c.copy();
  let path = 0;
  let copy = 0;
  for (let r = 0; r < ROUNDS; r++) {
    path = Math.max(path, measure(c.path, c.bytesPerPass));
    copy = Math.max(copy, measure(c.copy, c.bytesPerPass));
  }
  return { path, copy };
}

function mbs(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1);
}

export function runCorePaths(): string {
  const header = ["direction", "type", "payload", "path MB/s", "copy MB/s", "path / copy"];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map((h, i) => (i >= 3 ? ` ${"-".repeat(h.length - 1)}: ` : ` ${"-".repeat(h.length)} `)).join("|")}|`];
  for (const direction of ["receive", "send"] as const) {
    for (const [kind, label, size] of CASES) {
      if (ONLY !== "" && !`${direction} ${kind} ${label}`.includes(ONLY)) continue;
      const { path, copy } = best(direction === "receive" ? receiveCase(kind, size) : sendCase(kind, size));
      lines.push(`| ${direction} | ${kind} | ${label} | ${mbs(path)} | ${mbs(copy)} | ${((path / copy) * 100).toFixed(1)}% |`);
    }
  }
  return lines.join("\n");
}

const started = Date.now();
console.log(
  `The core alone (src/, no I/O; Node ${process.version}): payload MB/s (10^6 B/s) of the receive path (copy in, parse, UTF-8 validation, copy out) ` +
    `and the send path (frame, encode, mask), rx and tx buffers ${BUFFER} B, reads into ${READ} B; beside a plain copy of the same bytes ` +
    `(Uint8Array.prototype.set, one call per piece), best of ${ROUNDS} alternating runs of ${BUDGET_MS} ms each\n`,
);
console.log(runCorePaths());
console.log(`\n(receive copies each byte twice, into the rx buffer and out of it: 50% of copy is its ceiling. ${((Date.now() - started) / 1000).toFixed(1)} s in all)`);
