// `npm run bench` (via run.mjs): the XS engine's compute count per message
// on the core's hot path, receiving and sending 16 B, 1 KiB and 64 KiB text
// and binary messages. xsnap's meter is deterministic for the same work, so
// a change to the hot path shows as an exact difference in this table.
//
// Each case runs in its own deliveries: one message, then 1 + REPEAT
// messages on a fresh connection; the difference over REPEAT is the steady
// state cost of one message (setup and the delivery itself cancel out).
// Every case is measured twice, and the two must agree.

import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { bundleForXs, startXsWorker, xsEngineVersion, type XsWorker } from "../../test/xs/xsnap-driver.js";
import { formatCount as format, markdownTable } from "./lib/table.js";
// @ts-expect-error: a plain .mjs build script, no types
import { buildUtf8Worker } from "../xsnap-utf8/build.mjs";

const SIZES: Array<[string, number]> = [
  ["16 B", 16],
  ["1 KiB", 1024],
  ["64 KiB", 65536],
];
const REPEAT = 8;

interface Measured {
  compute: number;
  /** What the delivery allocated (the meter's allocate). */
  allocate: number;
  /** Heap slots in use when the delivery ended (the meter's currentHeapCount). */
  heap: number;
  ms: number;
}

async function measure(worker: XsWorker, direction: string, kind: string, size: number, count: number): Promise<Measured> {
  await worker.evaluate(`XsBench.prepare(${JSON.stringify(direction)}, ${JSON.stringify(kind)}, ${size}, ${count})`);
  const started = performance.now();
  const { meter } = await worker.evaluate("XsBench.run()");
  return { compute: meter.compute, allocate: meter.allocate, heap: meter.currentHeapCount, ms: performance.now() - started };
}

/** The compute of one message (exact), what it allocates and leaves on the heap, and its wall time (indicative only). */
async function perMessage(worker: XsWorker, direction: string, kind: string, size: number): Promise<Omit<Measured, "ms"> & { ms: number }> {
  const results: number[] = [];
  let allocate = 0;
  let heap = 0;
  let ms = Infinity;
  // Once first, unmeasured: what is made on first use only (the shared mask-key scratch) is not per message.
  await measure(worker, direction, kind, size, 1);
  for (let attempt = 0; attempt < 2; attempt++) {
    const one = await measure(worker, direction, kind, size, 1);
    const many = await measure(worker, direction, kind, size, 1 + REPEAT);
    results.push((many.compute - one.compute) / REPEAT);
    allocate = (many.allocate - one.allocate) / REPEAT;
    heap = (many.heap - one.heap) / REPEAT;
    ms = Math.min(ms, many.ms / (1 + REPEAT));
  }
  if (results[0] !== results[1]) throw new Error(`${direction} ${kind} ${size}: the meter gave ${results[0]} then ${results[1]}: not deterministic`);
  return { compute: results[0], allocate, heap, ms };
}

const started = Date.now();
const ENTRY = fileURLToPath(new URL("./xs-compute-entry.ts", import.meta.url));
/** The ways text is encoded: the host's TextEncoder.encodeInto (xsnap's, Moddable's textencoder.c), the core's own encoder, websock's native writer. */
const ENCODINGS = ["encodeInto", "pure", "writer"] as const;
const rows: string[][] = [];
/** Slots a binary send of each size leaves: what a text send is to stay within (issue 17). */
const binarySlots = new Map<number, number>();
for (const encoding of ENCODINGS) {
  const worker = startXsWorker(encoding === "writer" ? { binary: buildUtf8Worker() } : {});
  try {
    if (encoding === "pure") await worker.evaluate("globalThis.WEBSOCK_PURE_UTF8 = true");
    await worker.evaluate(await bundleForXs(ENTRY, "XsBench"));
    // The whole table with the host's encoder; text sends only with the others (nothing else uses them).
    const cases: Array<[string, string]> = encoding === "encodeInto"
      ? [["receive", "text"], ["receive", "binary"], ["send", "text"], ["send", "mixed"], ["send", "binary"]]
      : [["send", "text"], ["send", "mixed"]];
    for (const [direction, kind] of cases) {
      for (const [label, size] of SIZES) {
        const { compute, allocate, heap, ms } = await perMessage(worker, direction, kind, size);
        if (direction === "send" && kind === "binary") binarySlots.set(size, heap);
        const textSend = direction === "send" && kind !== "binary";
        const type = kind === "mixed" ? "text (non-ASCII)" : kind;
        rows.push([direction, type, textSend ? encoding : "", label, format(compute), (compute / size).toFixed(2), format(allocate), format(heap), ms < 1 ? ms.toFixed(3) : ms.toFixed(1), `${size}:${textSend && encoding === "writer" ? heap : ""}`]);
      }
    }
  } finally {
    const exit = await worker.close();
    if (exit.code !== 0) {
      console.error(`xsnap-worker exited with ${exit.code}`);
      process.exitCode = 1;
    }
  }
}
// The writer's goal: a text send leaves no more than a binary send of the same size.
for (const row of rows) {
  const [size, slots] = row[9].split(":");
  row[9] = slots === "" ? "" : Number(slots) <= binarySlots.get(Number(size))! ? "yes" : "**no**";
}
const header = ["direction", "type", "text encoder", "payload", "XS compute / message", "per payload byte", "chunk heap grown / message", "slots / message", "wall ms / message", "slots ≤ binary's (issue 17)"];
console.log(`XS compute per message on the core's hot path (${xsEngineVersion()}; rx and tx buffers 4096 B, reads of 4096 B; text is ASCII, non-ASCII text a U+00E9 U+20AC U+1F600 repeated)\n`);
console.log(markdownTable(header, rows, 4));
console.log(`\n(compute: (compute of ${1 + REPEAT} messages - compute of 1) / ${REPEAT}, measured twice and identical.\n` +
    ` text encoder: encodeInto is the host's TextEncoder (xsnap's, as Moddable's textencoder.c), pure the core's own (utf8.ts), writer websock's native UTF-8 writer (websock_utf8.c, in a worker built with it: tools/xsnap-utf8/build.mjs).` +
    ` chunk heap grown: the meter's allocate, by the same difference (0: the chunk heap never had to grow); slots: the growth of` +
    ` the slots in use (the meter's currentHeapCount) per message. No collection runs inside a delivery, so this is what one message` +
    ` leaves for the collector (views, promises; for a text string, the iterator's one-character strings), not what it keeps.` +
    ` The meter counts XS byte code, not the work of native built-ins (string indexing, copies): the wall time, which varies` +
    ` from run to run and machine to machine, is there to catch costs the meter cannot see. ${((Date.now() - started) / 1000).toFixed(1)} s in all)`);
