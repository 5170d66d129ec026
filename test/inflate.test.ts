// src/inflate.ts against Node's zlib: every block type, every window size,
// every chunking (one byte at a time included), and fuzzed streams where
// zlib is the reference: the same bytes, or a failure where zlib fails.

import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import zlib from "node:zlib";
import { INFLATE_ERROR, Inflater } from "../src/inflate.js";
import { everyByte, inflatePieces, randomCuts } from "./inflate/run.js";

/** Data that compresses the way messages do: words, repeats, some noise. */
function sample(length: number, seed: number): Buffer {
  const words = ["sensor", "temperature", "\"value\":", "21.5", ",", "{", "}", " ", "\n", "ok", "websock"];
  let x = seed | 1;
  const parts: Buffer[] = [];
  let n = 0;
  while (n < length) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const r = (x >>> 0) % 100;
    const b = r < 8 ? randomBytes(1 + (r % 7)) : Buffer.from(words[r % words.length]);
    parts.push(b);
    n += b.length;
  }
  return Buffer.concat(parts).subarray(0, length);
}

function deflate(data: Buffer, windowBits: number, options: zlib.ZlibOptions = {}): Buffer {
  return zlib.deflateRawSync(data, { windowBits, ...options });
}

function assertSame(got: ReturnType<typeof inflatePieces>, want: Buffer, what: string): void {
  assert.equal(got.error, "", `${what}: failed with ${got.error}`);
  assert.ok(got.ended, `${what}: the final block was not seen`);
  assert.ok(Buffer.from(got.output).equals(want), `${what}: ${got.output.length} bytes differ from zlib's ${want.length}`);
}

describe("inflate (src/inflate.ts): raw DEFLATE with a window of 2^N bytes", () => {
  const text = sample(5000, 42);

  it("a stored block (RFC 1951 §3.2.4), a fixed-Huffman block (§3.2.6) and a dynamic-Huffman block (§3.2.7), each whole and one byte at a time", () => {
    const cases: Array<[string, Buffer]> = [
      ["stored", deflate(text, 15, { level: 0 })],
      ["fixed", deflate(text, 15, { strategy: zlib.constants.Z_FIXED })],
      ["dynamic", deflate(text, 15, { level: 9 })],
      ["Huffman only", deflate(text, 15, { strategy: zlib.constants.Z_HUFFMAN_ONLY })],
      ["run-length", deflate(text, 15, { strategy: zlib.constants.Z_RLE })],
    ];
    // The block types are what the names say: BTYPE in the first block header's bits 1-2.
    assert.deepEqual(cases.slice(0, 3).map(([, c]) => (c[0] >> 1) & 3), [0, 1, 2]);
    for (const [name, compressed] of cases) {
      assertSame(inflatePieces(compressed, 15, [], 65536), text, `${name}, whole`);
      assertSame(inflatePieces(compressed, 15, everyByte(compressed.length), 1, true), text, `${name}, one byte at a time, 1-byte reads`);
      assertSame(inflatePieces(compressed, 15, everyByte(compressed.length), 100, true), text, `${name}, one byte at a time, 100-byte reads`);
    }
  });

  it("every two-way split of a small stream of each block type, read 1, 7 and 64 bytes at a time", () => {
    const small = sample(300, 7);
    for (const options of [{ level: 0 }, { strategy: zlib.constants.Z_FIXED }, { level: 9 }]) {
      const compressed = deflate(small, 9, options);
      for (let split = 1; split < compressed.length; split++) {
        for (const readSize of [1, 7, 64]) assertSame(inflatePieces(compressed, 9, [split], readSize, readSize === 7), small, `split at ${split}, ${readSize}-byte reads`);
      }
    }
  });

  it("streams zlib made with each window from 2^9 to 2^15 inflate in a window of that size, one byte at a time too", () => {
    const big = sample(100000, 3);
    for (let bits = 9; bits <= 15; bits++) {
      const compressed = deflate(big, bits, { level: 9 });
      assertSame(inflatePieces(compressed, bits, [], 4096), big, `window ${bits}, whole`);
      assertSame(inflatePieces(compressed, bits, everyByte(compressed.length), 1000), big, `window ${bits}, one byte at a time`);
      assertSame(inflatePieces(compressed, bits, randomCuts(compressed.length, bits, 300), 33, true), big, `window ${bits}, random pieces`);
    }
  });

  it("a window full of unread bytes stops decoding until they are taken, in the middle of a back-reference", () => {
    // 258-byte back-references of one byte repeated: each fills a 512-byte window in two.
    const zeros = Buffer.alloc(20000, 0x61);
    const compressed = deflate(zeros, 9);
    const inf = new Inflater(9);
    const r = inf.inflate(compressed, 0, compressed.length);
    assert.equal(r, 1 /* INFLATE_WINDOW_FULL */);
    assert.equal(inf.pending, 512);
    assert.ok(inf.consumed < compressed.length, "input left over for later");
    assertSame(inflatePieces(compressed, 9, [], 1), zeros, "1-byte reads");
  });

  it("a back-reference farther than the window fails, and so does one before the stream's first byte", () => {
    const noise = randomBytes(1500);
    const compressed = deflate(Buffer.concat([noise, noise]), 15, { level: 9 });
    const got = inflatePieces(compressed, 10, [], 4096);
    assert.match(got.error, /too far back: 1500 beyond the window of 1024 bytes/);
    assertSame(inflatePieces(compressed, 11, [], 4096), Buffer.concat([noise, noise]), "window 11 holds it");
    // RFC 7692 §7.2.3.2's second message alone refers to bytes this stream never had.
    const inf = new Inflater(15);
    assert.equal(inf.inflate(Buffer.from("f200110000", "hex"), 0, 5), INFLATE_ERROR);
    assert.equal(inf.error, "invalid distance too far back");
    assert.ok(inf.errorIsDistance);
  });

  it("malformed headers fail with zlib's reason: block type 3, NLEN, too many symbols, over-subscribed and incomplete codes, a repeat with nothing to repeat", () => {
    const cases: Array<[string, string]> = [
      ["07", "invalid block type"],
      ["010500faf0", "invalid stored block lengths"],
      // HLIT = 31 (288 symbols): more than 286.
      ["fd0000", "too many length or distance symbols"],
      // Three code length codes of 1 bit each; one alone (incomplete).
      ["05009200", "invalid code lengths set"],
      ["05000200", "invalid code lengths set"],
      // The first code length is "repeat the previous one" (16).
      ["05000224", "invalid bit length repeat"],
    ];
    for (const [hex, reason] of cases) {
      const got = inflatePieces(Buffer.from(hex, "hex"), 15, [], 100);
      assert.equal(got.error, reason, hex);
      assert.throws(() => zlib.inflateRawSync(Buffer.from(hex, "hex")), (e: Error) => e.message.includes(reason), `zlib agrees on ${hex}`);
    }
  });

  it("fuzzing against zlib.inflateRawSync: 3000 corrupted and truncated streams give zlib's bytes or fail where zlib fails", function () {
    this.timeout(60000);
    let same = 0;
    let failedBoth = 0;
    for (let i = 0; i < 3000; i++) {
      const data = sample(50 + (i % 40) * 50, i + 1);
      const options = [{ level: 0 }, { strategy: zlib.constants.Z_FIXED }, { level: 9 }, { level: 1 }][i % 4];
      const stream = Buffer.from(deflate(data, 15, options));
      // Corrupt: flip bits, change bytes, truncate, or append garbage.
      const kind = i % 5;
      let x = (i * 2654435761) >>> 0;
      const pick = (n: number): number => (x = (x * 1103515245 + 12345) >>> 0) % n;
      let input: Buffer = stream;
      if (kind === 0) stream[pick(stream.length)] ^= 1 << pick(8);
      else if (kind === 1) for (let k = 0; k < 3; k++) stream[pick(stream.length)] = pick(256);
      else if (kind === 2) input = stream.subarray(0, pick(stream.length));
      else if (kind === 3) stream[pick(Math.min(stream.length, 12))] ^= 1 << pick(8);
      else input = Buffer.concat([stream, randomBytes(5)]);
      let reference: Buffer | null = null;
      try {
        reference = zlib.inflateRawSync(input);
      } catch {
        reference = null;
      }
      const got = inflatePieces(input, 15, randomCuts(input.length, i + 9, 40), 1 + (i % 300), (i & 1) === 0);
      if (reference !== null) {
        assertSame(got, reference, `case ${i}`);
        same++;
      } else {
        // zlib failed: a corrupt stream is an error, a truncated one never reaches its final block.
        assert.ok(got.error !== "" || !got.ended, `case ${i}: zlib failed and inflate succeeded`);
        failedBoth++;
      }
    }
    assert.ok(same > 300 && failedBoth > 300, `both outcomes were exercised (${same} same, ${failedBoth} failed)`);
  });
});
