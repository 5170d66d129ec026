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
const worker = startXsWorker();
try {
  await worker.evaluate(await bundleForXs(fileURLToPath(new URL("./xs-compute-entry.ts", import.meta.url)), "XsBench"));
  const rows: string[][] = [];
  for (const direction of ["receive", "send"]) {
    for (const kind of ["text", "binary"]) {
      for (const [label, size] of SIZES) {
        const { compute, allocate, heap, ms } = await perMessage(worker, direction, kind, size);
        rows.push([direction, kind, label, format(compute), (compute / size).toFixed(2), format(allocate), format(heap), ms < 1 ? ms.toFixed(3) : ms.toFixed(1)]);
      }
    }
  }
  const header = ["direction", "type", "payload", "XS compute / message", "per payload byte", "chunk heap grown / message", "slots / message", "wall ms / message"];
  console.log(`XS compute per message on the core's hot path (${xsEngineVersion()}; rx and tx buffers 4096 B, reads of 4096 B; text is ASCII)\n`);
  console.log(markdownTable(header, rows, 3));
  console.log(`\n(compute: (compute of ${1 + REPEAT} messages - compute of 1) / ${REPEAT}, measured twice and identical.\n` +
      ` chunk heap grown: the meter's allocate, by the same difference (0: the chunk heap never had to grow); slots: the growth of` +
      ` the slots in use (the meter's currentHeapCount) per message. No collection runs inside a delivery, so this is what one message` +
      ` leaves for the collector (views, promises; for a text string, the iterator's one-character strings), not what it keeps.` +
      ` The meter counts XS byte code, not the work of native built-ins (string indexing, copies): the wall time, which varies` +
      ` from run to run and machine to machine, is there to catch costs the meter cannot see. ${((Date.now() - started) / 1000).toFixed(1)} s in all)`);
} finally {
  const exit = await worker.close();
  if (exit.code !== 0) {
    console.error(`xsnap-worker exited with ${exit.code}`);
    process.exitCode = 1;
  }
}
