// stdin as messages: one per line (a line ends at "\n"; a "\r" before it is
// dropped too; a last line without "\n" still counts), or, with --no-split,
// all of stdin as one message. Bytes, not strings: a text line is checked as
// UTF-8 by websock_send_text, a binary line is sent as it is.

import type { Readable } from "node:stream";

const LF = 0x0a;
const CR = 0x0d;

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function withoutCr(line: Uint8Array): Uint8Array {
  return line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line;
}

/** Yields each line of `input` without its line end. Reading pauses while the consumer awaits (backpressure). */
export async function* lines(input: Readable): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  let pendingLength = 0;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    let start = 0;
    for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, start)) {
      pending.push(chunk.subarray(start, i));
      pendingLength += i - start;
      yield withoutCr(concat(pending, pendingLength));
      pending = [];
      pendingLength = 0;
      start = i + 1;
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingLength += chunk.length - start;
    }
  }
  if (pendingLength > 0) yield withoutCr(concat(pending, pendingLength));
}

/** Yields all of `input` as one message, at its end (--no-split); nothing when stdin was empty. */
export async function* whole(input: Readable): AsyncGenerator<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    parts.push(chunk);
    total += chunk.length;
  }
  if (total > 0) yield concat(parts, total);
}
