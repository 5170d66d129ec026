// `npm run fuzz -- <count> [seed]`: a long fuzzing campaign against the pure
// core, with the properties of test/fuzz.test.ts (test/support/fuzz-streams.ts):
//   40%  frame streams checked against the RFC 6455 reference model
//   40%  mutated and random byte streams checked against the invariants
//   10%  handshake responses built header by header (§4.1's verdict)
//   10%  mutated handshake responses
// each input in a random chunking with random read sizes. Then one
// long-lived connection is fed valid traffic (as many frames as inputs, at
// least a million) to show its heap does not grow. Prints a summary: inputs
// run, outcomes by error name, heap growth, time. Exit 1 on the first
// failure, with fast-check's counterexample and the seed to replay it.
// Run with --expose-gc (the npm script does) so heap figures are after a GC.

import fc from "fast-check";
import {
  frameStreams,
  longLivedHeapGrowth,
  mutatedStreams,
  mutationLists,
  responseSpecs,
  runHandshake,
  runModelStream,
  runMutatedHandshake,
  runMutatedStream,
  schedules,
} from "../test/support/fuzz-streams.js";

const HEAP_SAMPLE_EVERY = 50_000;

const count = Number(process.argv[2] ?? 100_000);
const seed = process.argv[3] !== undefined ? Number(process.argv[3]) : Date.now() % 2 ** 31;
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(seed)) {
  process.stderr.write("usage: npm run fuzz -- <count> [seed]\n");
  process.exit(2);
}

const gcFn = (globalThis as { gc?: () => void }).gc;
const gc = gcFn ?? ((): void => {});
const heapUsed = (): number => process.memoryUsage().heapUsed;

const outcomes = new Map<string, number>();
let inputs = 0;
gc();
const baseline = heapUsed();
let maxGrowth = 0;
/** Heap above the baseline after each sample's GC, in KiB: the trend shows whether anything accumulates. */
const samples: number[] = [];

/** Counts an outcome; every HEAP_SAMPLE_EVERY inputs, samples the heap after a GC. */
function record(outcome: string): void {
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  if (++inputs % HEAP_SAMPLE_EVERY === 0) {
    gc();
    const growth = heapUsed() - baseline;
    maxGrowth = Math.max(maxGrowth, growth);
    samples.push(Math.round(growth / 1024));
    process.stderr.write(`\r${inputs} inputs...`);
  }
}

type Property = fc.IProperty<unknown[]>;
const campaigns: Array<[string, number, Property]> = [
  ["frame streams vs the model", Math.round(count * 0.4), fc.property(frameStreams, schedules, (f, s) => record(runModelStream(f, s))) as unknown as Property],
  ["mutated and random streams", Math.round(count * 0.4), fc.property(mutatedStreams, schedules, (i, s) => record(runMutatedStream(i, s))) as unknown as Property],
  ["handshakes vs §4.1", Math.round(count * 0.1), fc.property(responseSpecs, schedules, frameStreams, (r, s, f) => record(runHandshake(r, s, f))) as unknown as Property],
];
campaigns.push(["mutated handshakes", count - campaigns.reduce((n, c) => n + c[1], 0), fc.property(responseSpecs, frameStreams, mutationLists, schedules, (r, f, m, s) => record(runMutatedHandshake(r, f, m, s))) as unknown as Property]);

const started = performance.now();
const lines: string[] = [];
for (const [name, runs, property] of campaigns) {
  if (runs <= 0) continue;
  const t = performance.now();
  const details = fc.check(property, { numRuns: runs, seed });
  if (details.failed) {
    process.stderr.write(`\n${fc.defaultReportMessage(details) ?? "failed"}\n`);
    process.stderr.write(`fuzz: FAILED in "${name}" (seed ${seed}); replay with: npm run fuzz -- ${count} ${seed}\n`);
    process.exit(1);
  }
  lines.push(`  ${name.padEnd(28)} ${String(runs).padStart(9)} inputs  ${((performance.now() - t) / 1000).toFixed(1).padStart(7)} s  ok`);
}
gc();
maxGrowth = Math.max(maxGrowth, heapUsed() - baseline);
const campaignSeconds = (performance.now() - started) / 1000;

const longFrames = Math.max(1_000_000, count);
const t = performance.now();
const long = longLivedHeapGrowth(longFrames, gc, heapUsed);
const longSeconds = (performance.now() - t) / 1000;
if (!long.healthy) {
  process.stderr.write("\nfuzz: FAILED: the long-lived connection failed on valid traffic\n");
  process.exit(1);
}

const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
process.stderr.write("\r");
console.log(`fuzz: ${inputs} inputs, no failure, in ${campaignSeconds.toFixed(1)} s (seed ${seed})`);
for (const line of lines) console.log(line);
console.log("outcomes (how recv ended):");
for (const [name, n] of [...outcomes].sort((a, b) => b[1] - a[1])) console.log(`  ${name.padEnd(48)} ${String(n).padStart(9)}`);
console.log(`heap: max growth over the campaign ${kib(maxGrowth)} (sampled after GC every ${HEAP_SAMPLE_EVERY} inputs${gcFn ? "" : "; no --expose-gc, so before GC"})`);
if (samples.length > 0) console.log(`  growth at each sample, KiB: ${samples.join(" ")}`);
console.log(`long-lived connection: ${long.delivered} valid frames in ${longSeconds.toFixed(1)} s, heap growth ${kib(long.growth)}`);
