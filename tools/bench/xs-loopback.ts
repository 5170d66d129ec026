// websock's own garbage inside XS, with no transport's in it: the websock_*
// API over a Host that allocates nothing per message (lib/loopback-host.ts),
// in the real XS engine (xsnap). xs-memory.ts measures the same models over
// the XS test host, whose relay to Node allocates per event; this one says
// which part of that is websock's (on a device, the host is Moddable's).
//
// Figures are slots in use after a run less those after a full collection
// before it, for 1 + n runs less 1, over n, in a slot heap grown first so
// that no collection runs inside a measured delivery. Slots only: xsnap's
// meter has no chunk count.

import { fileURLToPath } from "node:url";
import { bundleForXs, decodeJson, startXsWorker, xsEngineVersion, type XsWorker } from "../../test/xs/xsnap-driver.js";
import { formatCount, markdownTable } from "./lib/table.js";
// @ts-expect-error: a plain .mjs build script, no types
import { buildUtf8Worker } from "../xsnap-utf8/build.mjs";

const N = 200;
const ENTRY = fileURLToPath(new URL("./xs-loopback-entry.ts", import.meta.url));

async function inUse(worker: XsWorker, code: string): Promise<number> {
  return (await worker.evaluate(code)).meter.currentHeapCount;
}

/** Slots a call leaves in use: its garbage, plus what it keeps. */
async function left(worker: XsWorker, call: string): Promise<number> {
  const before = await inUse(worker, "XsLoop.collect()");
  const seen = decodeJson<{ collections: number }>((await worker.evaluate("XsLoop.result()")).reply).collections;
  await worker.evaluate(call);
  const after = await inUse(worker, "0");
  const r = decodeJson<{ outcome: string; collections: number }>((await worker.evaluate("XsLoop.result()")).reply);
  if (r.outcome !== "done") throw new Error(`${call}: ${r.outcome}`);
  if (r.collections !== seen) throw new Error(`${call}: a collection ran during the measured run (the figure would be too low)`);
  return after - before;
}

async function perRun(worker: XsWorker, call: (n: number) => string, n = N): Promise<number> {
  const one = await left(worker, call(1));
  const many = await left(worker, call(1 + n));
  return (many - one) / n;
}

/** Runs of the 64 KiB sends: few enough that their chunk garbage (the native path's substrings) starts no collection. */
const LARGE_N = 16;

interface Measured {
  idle: number;
  echoCallback: number;
  echoRecvNow: number;
  echoRecv: number;
  echoRecvControl: number;
  receiveCallback: number;
  receiveRecvNow: number;
  sends: Record<string, number>;
}

/** How text is encoded: the host's TextEncoder.encodeInto, the core's own encoder, websock's native writer (a worker built with it). */
type Encoding = "encodeInto" | "pure" | "writer";

/** The sizes of the send rows, and the rx/tx buffer of each. */
const SENDS: ReadonlyArray<[number, number]> = [[16, 1024], [1024, 1024], [65536, 4096]];

async function measure(encoding: Encoding): Promise<Measured> {
  const worker = startXsWorker(encoding === "writer" ? { binary: buildUtf8Worker() } : {});
  try {
    if (encoding === "pure") await worker.evaluate("globalThis.WEBSOCK_PURE_UTF8 = true");
    await worker.evaluate(await bundleForXs(ENTRY, "XsLoop"));
    await worker.evaluate("XsLoop.reserve(4000000)");
    await worker.evaluate("XsLoop.prepare(1024, 1024)");
    const before = await inUse(worker, "XsLoop.collect()");
    await worker.evaluate("XsLoop.open(1024)");
    const idle = (await inUse(worker, "XsLoop.collect()")) - before;
    const m: Measured = {
      idle,
      echoCallback: await perRun(worker, (n) => `XsLoop.echoByCallback(${n})`),
      echoRecvNow: await perRun(worker, (n) => `XsLoop.echoByRecvNow(${n})`),
      echoRecv: await perRun(worker, (n) => `XsLoop.echoByRecv(${n})`),
      echoRecvControl: await perRun(worker, (n) => `XsLoop.echoByRecvControl(${n})`),
      receiveCallback: await perRun(worker, (n) => `XsLoop.receiveByCallback(${n})`),
      receiveRecvNow: await perRun(worker, (n) => `XsLoop.receiveByRecvNow(${n})`),
      sends: {},
    };
    await worker.evaluate("XsLoop.close()");
    for (const [size, buffer] of SENDS) {
      await worker.evaluate(`XsLoop.prepare(${size}, ${buffer})`);
      await worker.evaluate(`XsLoop.open(${buffer})`);
      for (const kind of ["binary", "text", "mixed"]) m.sends[`${kind} ${size}`] = await perRun(worker, (n) => `XsLoop.sendOnly("${kind}", ${n})`, size > 1024 ? LARGE_N : N);
      await worker.evaluate("XsLoop.close()");
    }
    return m;
  } finally {
    await worker.close();
  }
}

const native = await measure("encodeInto");
const pure = await measure("pure");
const writer = await measure("writer");
const f = (n: number) => formatCount(n);
const recvOwn = native.echoRecv - native.echoRecvControl - native.sends["binary 1024"];
console.log(`websock's own garbage inside XS (${xsEngineVersion()}), over a host that allocates nothing per message\n`);
console.log(markdownTable(
  ["figure", "slots", "goal (issue 17)", "met"],
  [
    ["idle open connection, rx + tx 1 KiB (live, buffers' slots included)", f(native.idle), "", ""],
    ["callback model: garbage per 1 KiB echo (send + receive)", f(native.echoCallback), "", ""],
    ["websock_recv_now loop: garbage per 1 KiB echo (send + receive)", f(native.echoRecvNow), "", ""],
    ["websock_recv loop (each call awaited): garbage per 1 KiB echo (send + its receives)", f(native.echoRecv), "", ""],
    ["… the same loop's awaits alone (each call replaced by an awaited settled Promise)", f(native.echoRecvControl), "", ""],
    ["… websock's own beyond its Promises, per echo", f(native.echoRecv - native.echoRecvControl), "", ""],
    ["… of which per message received (less the 1 KiB binary send's, below)", f(recvOwn), "≤ 10", recvOwn <= 10 ? "yes" : "**no**"],
    ["callback model: garbage per 1 KiB message received", f(native.receiveCallback), "≤ 10", native.receiveCallback <= 10 ? "yes" : "**no**"],
    ["websock_recv_now: garbage per 1 KiB message received", f(native.receiveRecvNow), "≤ 10", native.receiveRecvNow <= 10 ? "yes" : "**no**"],
    ...SENDS.flatMap(([size, buffer]) => {
      const label = `${size === 16 ? "16 B" : size === 1024 ? "1 KiB" : "64 KiB"} (tx ${buffer / 1024} KiB)`;
      const binary = native.sends[`binary ${size}`];
      // A figure below 0 is the noise of collections before a run: as 0.
      const met = (n: number) => (n <= Math.max(binary, 0) ? "yes" : "**no**");
      return [
        [`${label} binary send (not awaited): garbage`, f(binary), "", ""],
        ...(["text", "mixed"] as const).flatMap((kind) => {
          const what = kind === "text" ? "text send" : "non-ASCII text send";
          return [
            [`${label} ${what}, host's TextEncoder.encodeInto`, f(native.sends[`${kind} ${size}`]), "", ""],
            [`${label} ${what}, the core's own UTF-8 encoder`, f(pure.sends[`${kind} ${size}`]), "", ""],
            [`${label} ${what}, websock's native UTF-8 writer`, f(writer.sends[`${kind} ${size}`]), "≤ binary", met(writer.sends[`${kind} ${size}`])],
          ];
        }),
      ];
    }),
  ],
  1,
));
console.log(`\n(${N} + 1 runs less 1, over ${N} (64 KiB sends: ${LARGE_N}), checked to have met no collection, in a heap grown first by 4,000,000 slots; text is ASCII, non-ASCII text as many bytes of a U+00E9 U+20AC U+1F600 repeated (1 to 4 bytes a character); the writer's rows in a worker built with websock_utf8.c (tools/xsnap-utf8/build.mjs); the loopback peer answers the upgrade, echoes or discards each frame, and copies bytes with loops so that none of its own garbage is counted)`);
