// `npm run bench` (via run.mjs), or `npm run bench -- reconnect-memory`:
// memory across reconnects of one handle, on Node and inside XS. The handle
// (reconnect on, delays of 1-4 ms) meets a peer (lib/flaky-server.ts) whose
// connections cycle through open-then-dropped, 503 with Retry-After, a reset
// mid-handshake, and a port closed for a moment (connects refused): about
// half of the attempts fail. After a warm-up of WARM_UP accepted
// connections, the handle's memory is read at three checkpoints, each with
// the handle open and idle (the peer holds that connection), across RUN more
// accepted connections (plus the refused attempts between them):
//   Node (the client as it ships, bundled; it needs gc(): without
//     --expose-gc it runs itself again with the flag): used_heap_size after
//     two gc(), and the active handles and requests (process.getActiveResourcesInfo());
//   XS (the websock_* API over the XS test host in an xsnap worker, bytes
//     relayed by this process): live slots, chunk bytes and keys from a heap
//     snapshot, which collects everything collectable first.
// Steady state must show no growth: nothing of a dropped connection stays.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { getHeapStatistics } from "node:v8";
import { Relay } from "../../test/xs/relay.js";
import { bundleForXs, startXsWorker, xsEngineVersion } from "../../test/xs/xsnap-driver.js";
import { FlakyServer } from "./lib/flaky-server.js";
import { loadWebsock } from "./lib/load-websock.js";
import { formatCount, markdownTable } from "./lib/table.js";
import { heapDifference, liveHeap, type LiveHeap } from "./lib/xs-live-heap.js";

const collect = (globalThis as { gc?: () => void }).gc;
if (collect === undefined) {
  const result = spawnSync(process.execPath, ["--expose-gc", ...process.execArgv, fileURLToPath(import.meta.url)], { stdio: "inherit" });
  process.exit(result.status ?? 1);
}

/** Accepted connections before the first checkpoint: V8 is still compiling and caching for the first 2,000 or so (its heap grows, then stops); XS has no such warm-up. */
const NODE_WARM_UP = 3000;
const XS_WARM_UP = 500;
/** Accepted connections from the first checkpoint to the last (the refused attempts come on top). */
const RUN = 1000;
const checkpoints = (warmUp: number): number[] => [warmUp, warmUp + RUN / 2, warmUp + RUN];
const REPORT_MS = 120000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function untilAccepted(server: FlakyServer, n: number): Promise<void> {
  while (server.accepted < n) await sleep(2);
}

interface Checkpoint<M> {
  accepted: number;
  attempts: number;
  reconnects: number;
  memory: M;
}

// ---- Node ----

interface NodeMemory {
  heap: number;
  resources: Record<string, number>;
}

function nodeMemory(): NodeMemory {
  collect!();
  collect!();
  const resources: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
  return { heap: getHeapStatistics().used_heap_size, resources };
}

async function measureNode(): Promise<Array<Checkpoint<NodeMemory>>> {
  const { WEBSOCK_ERR, websock_close, websock_get_info, websock_last_error, websock_msg_hdr_init, websock_open, websock_recv } = await loadWebsock();
  const server = new FlakyServer();
  await server.start();
  const h = await websock_open({
    hostname: "127.0.0.1",
    port: server.port,
    rx_buffer_size: 1024,
    tx_buffer_size: 1024,
    reconnect: { first_delay: 0, min_delay: 4, max_delay: 4, stable_after: 0x7fffffff },
  });
  if (h === null) throw new Error(`open: ${websock_last_error().message}`);
  let reconnects = 0;
  let failure = "";
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(256);
  const reading = (async () => {
    for (;;) {
      const n = await websock_recv(h, hdr, buf, buf.length, -1);
      if (n === WEBSOCK_ERR.RECONNECTED) reconnects++;
      else if (n < 0) {
        failure = websock_last_error(h).message;
        return;
      }
    }
  })();
  const points: Array<Checkpoint<NodeMemory>> = [];
  try {
    for (const at of checkpoints(NODE_WARM_UP)) {
      await untilAccepted(server, at);
      const opens = await server.holdNextOpen();
      while ((reconnects < opens - 1 || websock_get_info(h)?.state !== "OPEN") && failure === "") await sleep(1);
      if (failure !== "") throw new Error(`the handle ended: ${failure}`);
      const info = websock_get_info(h)!;
      points.push({ accepted: server.accepted, attempts: info.attempts!, reconnects, memory: nodeMemory() });
      server.release();
    }
  } finally {
    await websock_close(h);
    await reading;
    await server.stop();
  }
  return points;
}

// ---- XS ----

interface XsStatus {
  attempts: number;
  reconnects: number;
  state: string;
  failure: string;
}

let perEvaluation: LiveHeap = { slots: 0, chunkBytes: 0, keys: 0 };

async function measureXs(): Promise<Array<Checkpoint<LiveHeap>>> {
  const server = new FlakyServer();
  await server.start();
  const relay = new Relay();
  const worker = startXsWorker({ handleCommand: (request) => relay.answer(request) });
  relay.attach(worker);
  const points: Array<Checkpoint<LiveHeap>> = [];
  try {
    await worker.evaluate(await bundleForXs(fileURLToPath(new URL("./reconnect-memory-entry.ts", import.meta.url)), "XsReconnect"));
    const opened = relay.nextReport<XsStatus>(REPORT_MS);
    await worker.evaluate(`XsReconnect.start(${server.port})`);
    const first = await opened;
    if (first.failure !== "") throw new Error(first.failure);
    for (const at of checkpoints(XS_WARM_UP)) {
      await untilAccepted(server, at);
      const opens = await server.holdNextOpen();
      const arrives = relay.nextReport<XsStatus>(REPORT_MS);
      // One evaluation per checkpoint: what each leaves cancels out between checkpoints.
      await worker.evaluate(`XsReconnect.reportAt(${opens - 1})`);
      const s = await arrives;
      if (s.failure !== "") throw new Error(`the handle ended: ${s.failure}`);
      if (relay.errors.length > 0) throw relay.errors[0];
      const memory = await liveHeap(worker);
      points.push({ accepted: server.accepted, attempts: s.attempts, reconnects: s.reconnects, memory });
      if (points.length === 3) {
        // What one checkpoint's evaluation leaves by itself (XS keeps a key per script compiled): the
        // same call again, the handle still held open and idle, nothing reconnecting in between.
        const again = relay.nextReport<XsStatus>(REPORT_MS);
        await worker.evaluate(`XsReconnect.reportAt(${opens - 1})`);
        await again;
        perEvaluation = heapDifference(await liveHeap(worker), memory);
      }
      server.release();
    }
  } finally {
    relay.shutdown();
    await worker.close();
    await server.stop();
  }
  return points;
}

// ---- the tables ----

function attemptsRow(label: string, a: Checkpoint<unknown>, b: Checkpoint<unknown>): string[] {
  const attempts = b.attempts - a.attempts;
  const reconnects = b.reconnects - a.reconnects;
  return [label, formatCount(attempts), formatCount(reconnects), formatCount(attempts - reconnects), `${Math.round(((attempts - reconnects) / attempts) * 100)} %`];
}

const node = await measureNode();
const xs = await measureXs();

console.log(`One handle reconnecting (rx and tx 1 KiB) against a peer that drops each connection it opens, answers 503, resets mid-handshake, and refuses; after a warm-up of ${NODE_WARM_UP} accepted connections on Node and ${XS_WARM_UP} in XS, from checkpoint 1 to 3 (the handle open and idle at each):\n`);
console.log(markdownTable(["run", "attempts", "reconnects", "failed attempts", "failed"], [attemptsRow(`Node ${process.version}`, node[0], node[2]), attemptsRow(xsEngineVersion(), xs[0], xs[2])], 1));

const kinds = new Set<string>();
for (const p of node) for (const k of Object.keys(p.memory.resources)) kinds.add(k);
const resourceText = (r: Record<string, number>): string => [...kinds].sort().map((k) => `${k} ${r[k] ?? 0}`).join(", ");
console.log("\nNode: used_heap_size after two gc(), and the active resources (this process also runs the peer: its listening socket and the held connection are counted):\n");
console.log(markdownTable(
  ["checkpoint", "attempts so far", "heap", "active resources"],
  node.map((p, i) => [String(i + 1), formatCount(p.attempts), `${formatCount(p.memory.heap)} B`, resourceText(p.memory.resources)]),
  1,
));
const nodeGrowth = node[2].memory.heap - node[0].memory.heap;
const nodeHalf = node[2].memory.heap - node[1].memory.heap;
console.log(`\nNode heap growth: ${formatCount(nodeGrowth)} B from checkpoint 1 to 3 (${(nodeGrowth / (node[2].attempts - node[0].attempts)).toFixed(1)} B per attempt), ${formatCount(nodeHalf)} B from 2 to 3; active resources ${resourceText(node[0].memory.resources) === resourceText(node[2].memory.resources) ? "the same at every checkpoint" : "**changed**"}.`);

console.log(`\n${xsEngineVersion()}: the live heap from a snapshot (slots of 32 B in the 64-bit worker, 16 B on ESP32):\n`);
console.log(markdownTable(
  ["checkpoint", "attempts so far", "live slots", "chunk bytes", "keys"],
  xs.map((p, i) => [String(i + 1), formatCount(p.attempts), formatCount(p.memory.slots), `${formatCount(p.memory.chunkBytes)} B`, formatCount(p.memory.keys)]),
  1,
));
/** b - a, less the evaluations between them (one per checkpoint). */
function xsGrowth(b: LiveHeap, a: LiveHeap, evaluations: number): LiveHeap {
  const d = heapDifference(b, a);
  return { slots: d.slots - evaluations * perEvaluation.slots, chunkBytes: d.chunkBytes - evaluations * perEvaluation.chunkBytes, keys: d.keys - evaluations * perEvaluation.keys };
}
const d13 = xsGrowth(xs[2].memory, xs[0].memory, 2);
const d23 = xsGrowth(xs[2].memory, xs[1].memory, 1);
const text = (d: LiveHeap): string => `${formatCount(d.slots)} slots, ${formatCount(d.chunkBytes)} chunk bytes, ${formatCount(d.keys)} keys`;
console.log(`\nXS growth (less what each checkpoint's one evaluation leaves, measured with nothing reconnecting: ${text(perEvaluation)}): from checkpoint 1 to 3, ${text(d13)}; from 2 to 3, ${text(d23)}.`);
