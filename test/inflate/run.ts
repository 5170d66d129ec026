// Drives src/inflate.ts through a chunking of its input and a read size for
// its output, as the receiver does. Pure ES2022: the Node tests and the XS
// entry (test/xs/xs-inflate-entry.ts) run the same code.

import { INFLATE_ERROR, INFLATE_STREAM_END, INFLATE_WINDOW_FULL, Inflater } from "../../src/inflate.js";

export interface InflateOutcome {
  /** The bytes decoded (up to the failure, if any). */
  output: Uint8Array;
  /** The decoder's error, "" when none. */
  error: string;
  /** A final block ended the stream. */
  ended: boolean;
}

/**
 * Inflates `input` fed in pieces: `cuts` are ascending offsets where a new
 * piece begins (none: whole; every offset: one byte at a time). Output is
 * taken `readSize` bytes at a time, in place every other read when
 * `inPlace`, so both ways out of the window are used.
 */
export function inflatePieces(input: Uint8Array, windowBits: number, cuts: readonly number[], readSize: number, inPlace = false, inflater?: Inflater): InflateOutcome {
  const inf = inflater ?? new Inflater(windowBits);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(readSize);
  let reads = 0;
  const drain = (): void => {
    while (inf.pending > 0) {
      let n: number;
      if (inPlace && (reads & 1) === 1) {
        n = Math.min(inf.contiguous(), readSize);
        chunks.push(inf.window.slice(inf.contiguousStart, inf.contiguousStart + n));
        inf.consume(n);
      } else {
        n = Math.min(inf.pending, readSize);
        inf.take(buf, 0, n);
        chunks.push(buf.slice(0, n));
      }
      reads++;
      total += n;
    }
  };
  let at = 0;
  let error = "";
  let ended = false;
  const ends = cuts.filter((c) => c > 0 && c < input.length).concat([input.length]);
  outer: for (const end of ends) {
    for (;;) {
      const r = inf.inflate(input, at, end);
      at += inf.consumed;
      if (r === INFLATE_ERROR) {
        error = inf.error;
        break outer;
      }
      drain();
      if (r === INFLATE_STREAM_END) {
        ended = true;
        break outer;
      }
      if (r !== INFLATE_WINDOW_FULL && at >= end) break;
    }
  }
  const output = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    output.set(c, o);
    o += c.length;
  }
  return { output, error, ended };
}

/** Cuts for one byte at a time. */
export function everyByte(length: number): number[] {
  const cuts: number[] = [];
  for (let i = 1; i < length; i++) cuts.push(i);
  return cuts;
}

/** Pseudo-random cuts from a seed (xorshift), pieces of 1 to maxPiece bytes. */
export function randomCuts(length: number, seed: number, maxPiece: number): number[] {
  let x = seed | 1;
  const cuts: number[] = [];
  for (let at = 0; ;) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    at += 1 + ((x >>> 0) % maxPiece);
    if (at >= length) return cuts;
    cuts.push(at);
  }
}
