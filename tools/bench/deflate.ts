// `npm run bench -- deflate`: permessage-deflate's two figures.
//   1. RAM: what an inflating connection holds inside the real XS engine
//      (xsnap-worker), at window bits 9, 10, 12 and 15, against the same
//      connection without deflate: live slots and chunk bytes from heap
//      snapshots (lib/xs-live-heap.ts), per connection, over 4 connections
//      (rx and tx 1 KiB) that each inflated one message.
//   2. Speed on Node: src/inflate.ts against zlib.inflateRawSync on the same
//      streams, in one run, as a ratio (MB/s of inflated output).
// The simulator figures are measured apart (examples/memory/deflate; README).

import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import { INFLATE_ERROR, INFLATE_STREAM_END, Inflater } from "../../src/inflate.js";
import { bundleForXs, decodeJson, startXsWorker, xsEngineVersion } from "../../test/xs/xsnap-driver.js";
import { formatCount, markdownTable } from "./lib/table.js";
import { SLOT_BYTES_64, heapDifference, liveHeap, type LiveHeap } from "./lib/xs-live-heap.js";

const WINDOWS = [9, 10, 12, 15];
const CONNECTIONS = 4;
const BUFFER = 1024;

function telemetry(n: number): Buffer {
  let s = "";
  for (let i = 0; s.length < n; i++) s += `{"sensor":${i % 9},"value":${((i * 37) % 1000) / 10},"unit":"C","ok":${i % 3 !== 0}},`;
  return Buffer.from(s.slice(0, n));
}

/** A whole compressed server frame (RSV1, FIN, binary) of `data` at `bits`. */
function compressedFrame(data: Buffer, bits: number): Buffer {
  const c = zlib.deflateRawSync(data, { windowBits: bits, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const payload = c.subarray(0, c.length - 4);
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0xc2, n]) : Buffer.from([0xc2, 126, n >> 8, n & 255]);
  return Buffer.concat([head, payload]);
}

function plainFrame(data: Buffer): Buffer {
  const n = data.length;
  return Buffer.concat([Buffer.from([0x82, 126, n >> 8, n & 255]), data]);
}

async function ram(): Promise<void> {
  const worker = startXsWorker();
  try {
    await worker.evaluate(await bundleForXs(fileURLToPath(new URL("./xs-deflate-entry.ts", import.meta.url)), "XsDeflate"));
    const message = telemetry(20000);
    // An empty evaluation's own share, taken off each difference.
    const e0 = await liveHeap(worker);
    await worker.evaluate("0");
    const perEvaluation = heapDifference(await liveHeap(worker), e0);
    const measure = async (bits: number): Promise<LiveHeap> => {
      // Without deflate the same message comes uncompressed.
      const frame = (bits === 0 ? plainFrame(message) : compressedFrame(message, bits)).toString("hex");
      // A first round warms what a first use creates once; the second is measured.
      await worker.evaluate(`XsDeflate.make(${bits}, 1, ${BUFFER}, ${JSON.stringify(frame)})`);
      await worker.evaluate("XsDeflate.drop()");
      await worker.evaluate("XsDeflate.collect()");
      const before = await liveHeap(worker);
      const { reply } = await worker.evaluate(`XsDeflate.make(${bits}, ${CONNECTIONS}, ${BUFFER}, ${JSON.stringify(frame)})`);
      const read = decodeJson<{ read: number }>(reply).read;
      if (read !== message.length) throw new Error(`window ${bits}: read ${read} bytes, expected ${message.length}`);
      const d = heapDifference(await liveHeap(worker), before);
      await worker.evaluate("XsDeflate.drop()");
      return { slots: (d.slots - perEvaluation.slots) / CONNECTIONS, chunkBytes: (d.chunkBytes - perEvaluation.chunkBytes) / CONNECTIONS, keys: d.keys };
    };
    const plain = await measure(0);
    const rows: string[][] = [];
    const bytes = (h: LiveHeap): number => h.slots * SLOT_BYTES_64 + h.chunkBytes;
    rows.push(["none", formatCount(plain.slots), formatCount(plain.chunkBytes), formatCount(bytes(plain)), "", ""]);
    for (const bits of WINDOWS) {
      const h = await measure(bits);
      rows.push([
        `${bits} (${formatCount(1 << bits)} B window)`, formatCount(h.slots), formatCount(h.chunkBytes), formatCount(bytes(h)),
        formatCount(h.chunkBytes - plain.chunkBytes), formatCount(bytes(h) - bytes(plain)),
      ]);
    }
    console.log(`RAM of one open connection (rx and tx ${BUFFER} B) that inflated a ${formatCount(message.length)}-byte message, inside ${xsEngineVersion()}, per connection over ${CONNECTIONS}:\n`);
    console.log(markdownTable(["server_max_window_bits", "live slots", "chunk bytes", "bytes (64-bit slots)", "deflate's chunk bytes", "deflate's bytes"], rows, 1));
    console.log(`\n(slots are ${SLOT_BYTES_64} B in the 64-bit worker, 16 B on ESP32; chunk bytes hold the buffers, the window and the Huffman tables)`);
  } finally {
    await worker.close();
  }
}

function inflateOurs(stream: Buffer, bits: number, out: Uint8Array): number {
  const inf = new Inflater(bits);
  let at = 0;
  let total = 0;
  for (;;) {
    const r = inf.inflate(stream, at, stream.length);
    at += inf.consumed;
    if (r === INFLATE_ERROR) throw new Error(inf.error);
    while (inf.pending > 0) {
      const n = inf.pending < out.length ? inf.pending : out.length;
      inf.take(out, 0, n);
      total += n;
    }
    if (r === INFLATE_STREAM_END) return total;
  }
}

function speed(): void {
  const rows: string[][] = [];
  const out = new Uint8Array(4096);
  const cases: Array<[string, Buffer]> = [
    ["telemetry JSON, 1 MB", telemetry(1 << 20)],
    ["binary pattern, 1 MB", Buffer.from(new Uint8Array(1 << 20).map((_, i) => ((i * 131) ^ (i >> 7)) & 0xff))],
  ];
  for (const [name, data] of cases) {
    for (const bits of [9, 15]) {
      const stream = zlib.deflateRawSync(data, { windowBits: bits, level: 6 });
      if (inflateOurs(stream, bits, out) !== data.length || !zlib.inflateRawSync(stream).equals(data)) throw new Error("inflate mismatch");
      const time = (f: () => void): number => {
        for (let i = 0; i < 3; i++) f();
        const runs = 20;
        const t0 = performance.now();
        for (let i = 0; i < runs; i++) f();
        return (performance.now() - t0) / runs;
      };
      const ours = time(() => inflateOurs(stream, bits, out));
      const theirs = time(() => zlib.inflateRawSync(stream));
      const mbps = (ms: number): string => (data.length / 1e6 / (ms / 1000)).toFixed(0);
      rows.push([name, String(bits), `${(data.length / stream.length).toFixed(1)}:1`, mbps(ours), mbps(theirs), (ours / theirs).toFixed(2)]);
    }
  }
  console.log(`\nInflate throughput on Node ${process.version} (MB/s of inflated output; src/inflate.ts read out 4 KiB at a time, zlib.inflateRawSync whole):\n`);
  console.log(markdownTable(["data", "window bits", "ratio", "src/inflate.ts MB/s", "zlib MB/s", "time vs zlib"], rows, 1));
}

if (!process.argv.includes("--speed-only")) await ram();
speed();
