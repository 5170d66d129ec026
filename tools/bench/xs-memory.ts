// `npm run bench` (via run.mjs), or `npm run bench -- xs-memory`: websock's
// memory inside the real XS engine (xsnap-worker), through the public
// websock_* API over the XS test host, against a `ws` server on 127.0.0.1
// (its /echo and /silent routes; test/xs/relay.ts carries the bytes):
//   1. importing websock, its first use (the API bound to the host,
//      websock_last_error() once), the first connection: open, then what
//      stays once it is closed (the test host's own cost apart);
//   2. each further idle open connection (rx and tx 1 KiB);
//   3. 1,000 sequential 1 KiB binary echoes through the callback model and
//      through the websock_recv loop: what they retain, the garbage each
//      echo leaves for the collector, the collections that ran; the same
//      sends alone, so that the receive side's share stands apart;
//   4. text against binary sends of 1 KiB and 64 KiB: the garbage per send.
//
// What stays is read from a heap snapshot, which collects everything
// collectable first (lib/xs-live-heap.ts): live slots and live chunk bytes.
// Garbage is read from the meter: the slots in use after a run minus those
// after a full collection just before it, for 1 and for 1 + N runs; the
// difference over N cancels the setup and the reads themselves. xsnap counts
// no collections, so a FinalizationRegistry probe inside XS tells whether one
// ran during a run (a figure measured across a collection would be wrong).
// The whole sequence runs twice, in two fresh workers, and every figure must
// come out the same both times.

import net from "node:net";
import type { AddressInfo } from "node:net";
import { isDeepStrictEqual } from "node:util";
import { fileURLToPath } from "node:url";
import { startWsServer, type WsTestServer } from "../../test/support/ws-server.js";
import { Relay } from "../../test/xs/relay.js";
import { bundleForXs, decodeJson, startXsWorker, xsEngineVersion, type Delivery, type XsWorker } from "../../test/xs/xsnap-driver.js";
import { formatCount, markdownTable } from "./lib/table.js";
import { heapDifference, liveHeap, type LiveHeap } from "./lib/xs-live-heap.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
/** rx_buffer_size and tx_buffer_size of the idle and echo connections, the echo size and the read size. */
const SMALL = 1024;
/** rx and tx of the connection the send figures use (the default buffers, as xs-compute). */
const SEND_BUFFER = 4096;
const EXTRA_CONNECTIONS = 8;
const ECHOES = 1000;
const SEND_SIZES: Array<[string, number]> = [
  ["1 KiB", 1024],
  ["64 KiB", 65536],
];
const SEND_REPEAT = 8;
/** Slots the heap is grown by before garbage is measured: more than 1 + ECHOES echoes, or 1 + SEND_REPEAT sends, leave. */
const RESERVE_SLOTS = 2_000_000;
const REPORT_MS = 60000;

/** Garbage over one run: slots left for the collector, whether a collection ran, chunk space the worker had to add. */
interface Garbage {
  slots: number;
  collections: number;
  allocate: number;
  /** Pieces the run received (websock_recv returns, or callback calls). */
  pieces: number;
}

/** Garbage per message, and pieces per message; null if a collection ran (the figure would be wrong). */
type PerMessage = { slots: number; pieces: number } | null;

interface Figures {
  /** What evaluating an empty script leaves (XS keeps a key per script compiled): taken off every figure below. */
  perEvaluation: LiveHeap;
  importWebsock: LiveHeap;
  importHost: LiveHeap;
  installHost: LiveHeap;
  firstUse: LiveHeap;
  firstConnectionOpen: LiveHeap;
  firstConnectionLeft: LiveHeap;
  perIdleConnection: LiveHeap;
  leftAfterClosingAll: LiveHeap;
  /** recvNow: absent where the API has no websock_recv_now. */
  echo: Record<"callback" | "recv", EchoFigures> & { recvNow?: EchoFigures };
  /** The send share of an echo: a 1 KiB binary send alone, awaited, on a connection of the echoes' buffers. */
  echoSend: PerMessage;
  /** The XS test host's own share of an echo: 1 KiB out and back through its bare Transport. */
  hostEcho: PerMessage;
  sends: Array<{ kind: "text" | "binary"; label: string; garbage: PerMessage; repeat: number }>;
}

interface EchoFigures {
  retained: LiveHeap;
  collections: number;
  allocate: number;
  garbage: PerMessage;
}

/** The live heap at one point, and how many scripts had been evaluated by then. */
interface Point {
  heap: LiveHeap;
  evaluations: number;
}

/** One xsnap worker with the relay, the driver and websock in it. */
class XsSide {
  readonly relay = new Relay();
  readonly worker: XsWorker;
  private evaluations = 0;
  private perEvaluation: LiveHeap = { slots: 0, chunkBytes: 0, keys: 0 };

  constructor() {
    this.worker = startXsWorker({ handleCommand: (request) => this.relay.answer(request) });
    this.relay.attach(this.worker);
  }

  evaluate(code: string): Promise<Delivery> {
    this.evaluations++;
    return this.worker.evaluate(code);
  }

  async point(): Promise<Point> {
    return { heap: await liveHeap(this.worker), evaluations: this.evaluations };
  }

  /** What an empty script's evaluation leaves; taken off every later difference. */
  async calibrate(): Promise<LiveHeap> {
    const before = await this.point();
    await this.evaluate("0");
    this.perEvaluation = heapDifference((await this.point()).heap, before.heap);
    return this.perEvaluation;
  }

  /** after - before, less what the scripts evaluated in between left of their own. */
  difference(after: Point, before: Point): LiveHeap {
    const d = heapDifference(after.heap, before.heap);
    const n = after.evaluations - before.evaluations;
    return { slots: d.slots - n * this.perEvaluation.slots, chunkBytes: d.chunkBytes - n * this.perEvaluation.chunkBytes, keys: d.keys - n * this.perEvaluation.keys };
  }

  /** Runs a driver step that ends with a REPORT; throws if it failed. */
  async step(call: string): Promise<{ pieces: number }> {
    const report = this.relay.nextReport<{ ok: boolean; error?: string; pieces?: number }>(REPORT_MS);
    await this.evaluate(`XsMem.${call}`);
    const r = await report;
    if (!r.ok) throw new Error(`XsMem.${call}: ${r.error}`);
    if (this.relay.errors.length > 0) throw this.relay.errors[0];
    return { pieces: r.pieces ?? 0 };
  }

  async collectionsSeen(): Promise<number> {
    return decodeJson<{ collectionsSeen: number }>((await this.evaluate("XsMem.status()")).reply).collectionsSeen;
  }

  /** The garbage a step leaves: slots in use after it minus those right after a full collection before it. */
  async garbage(call: string): Promise<Garbage> {
    const before = (await this.evaluate("XsMem.collect()")).meter;
    const seenBefore = await this.collectionsSeen();
    const { pieces } = await this.step(call);
    const after = (await this.evaluate("0")).meter;
    return {
      slots: after.currentHeapCount - before.currentHeapCount,
      collections: (await this.collectionsSeen()) - seenBefore,
      allocate: after.allocate - before.allocate,
      pieces,
    };
  }

  /**
   * Garbage per run: (garbage of call(1 + n) - garbage of call(1)) / n;
   * null if a collection ran during either (the figure would be wrong).
   */
  async garbagePer(call: (count: number) => string, n: number): Promise<PerMessage> {
    const one = await this.garbage(call(1));
    const many = await this.garbage(call(1 + n));
    if (one.collections !== 0 || many.collections !== 0) return null;
    return { slots: (many.slots - one.slots) / n, pieces: (many.pieces - one.pieces) / n };
  }

  async close(): Promise<void> {
    this.relay.shutdown();
    const exit = await this.worker.close();
    if (exit.code !== 0) throw new Error(`xsnap-worker exited with ${exit.code}`);
  }
}

/** A TCP server that answers every `size` bytes received with `size` bytes, in one write: the bare transport's peer. */
async function startRawEchoServer(size: number): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let pending = 0;
    socket.on("data", (chunk) => {
      pending += chunk.length;
      for (; pending >= size; pending -= size) socket.write(Buffer.alloc(size, 0x5a));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const bundles = {
  websock: await bundleForXs(`${REPO}src/websock.ts`, "WebsockXs"),
  host: await bundleForXs(`${REPO}hosts/xs-test/xs-test-host.ts`, "XsTestHostXs"),
  driver: await bundleForXs(fileURLToPath(new URL("./xs-memory-entry.ts", import.meta.url)), "XsMem"),
};

async function measureAll(server: WsTestServer, rawPort: number): Promise<Figures> {
  const xs = new XsSide();
  try {
    const port = server.port;
    const echoOne = `open(${port}, "/echo", 1, ${SMALL})`;
    // 1. Import, first use, first connection. The driver comes last: the keys
    //    (property names) it shares with websock must count as websock's.
    const perEvaluation = await xs.calibrate();
    const bare = await xs.point();
    await xs.evaluate(bundles.websock);
    const withWebsock = await xs.point();
    await xs.evaluate(bundles.host);
    const withHost = await xs.point();
    await xs.evaluate(bundles.driver);
    const withDriver = await xs.point();
    await xs.evaluate("XsMem.installHost()");
    const installed = await xs.point();
    await xs.evaluate("XsMem.firstUse()");
    const used = await xs.point();
    await xs.step(echoOne);
    const firstOpen = await xs.point();
    await xs.step("closeAll()");
    const firstClosed = await xs.point();

    // 2. Idle connections: 1, then 1 + EXTRA_CONNECTIONS.
    await xs.step(echoOne);
    const one = await xs.point();
    await xs.step(`open(${port}, "/echo", ${EXTRA_CONNECTIONS}, ${SMALL})`);
    const many = await xs.point();
    await xs.step("closeAll()");
    const allClosed = await xs.point();
    const perConnection = xs.difference(many, one);

    // 3. Echoes, each model on a connection of its own, warmed up by one echo first.
    //    What ECHOES echoes retain, and the collections they meet, in xsnap's heap as it is;
    //    then, in a heap grown to hold their garbage, the garbage per echo.
    await xs.evaluate(`XsMem.prepare(${SMALL}, ${SMALL})`);
    const echo = {} as Figures["echo"];
    const models: Array<["callback" | "recv" | "recvNow", string]> = [["callback", "echoByCallback"], ["recv", "echoByRecv"]];
    if (decodeJson<boolean>((await xs.evaluate("XsMem.hasRecvNow()")).reply)) models.push(["recvNow", "echoByRecvNow"]);
    for (const [model, call] of models) {
      await xs.step(echoOne);
      await xs.step(`${call}(1)`);
      const before = await xs.point();
      const run = await xs.garbage(`${call}(${ECHOES})`);
      echo[model] = { retained: xs.difference(await xs.point(), before), collections: run.collections, allocate: run.allocate, garbage: null };
      await xs.step("closeAll()");
    }
    await xs.evaluate(`XsMem.reserve(${RESERVE_SLOTS})`);
    for (const [model, call] of models) {
      await xs.step(echoOne);
      await xs.step(`${call}(1)`);
      echo[model]!.garbage = await xs.garbagePer((n) => `${call}(${n})`, ECHOES);
      await xs.step("closeAll()");
    }
    // The send share: the same sends, awaited, to a server that does not answer.
    await xs.step(`open(${port}, "/silent", 1, ${SMALL})`);
    await xs.step(`send("binary", 1)`);
    const echoSend = await xs.garbagePer((n) => `send("binary", ${n})`, ECHOES);
    await xs.step("closeAll()");
    await xs.step(`openRaw(${rawPort})`);
    await xs.step("rawEcho(1)");
    const hostEcho = await xs.garbagePer((n) => `rawEcho(${n})`, ECHOES);
    await xs.evaluate("XsMem.closeRaw()");

    // 4. Sends to a server that reads and discards; fewer repeats if a collection still runs during them.
    await xs.step(`open(${port}, "/silent", 1, ${SEND_BUFFER})`);
    const sends: Figures["sends"] = [];
    for (const [label, size] of SEND_SIZES) {
      await xs.evaluate(`XsMem.prepare(${size}, ${SEND_BUFFER})`);
      for (const kind of ["text", "binary"] as const) {
        await xs.step(`send("${kind}", 1)`);
        let repeat = SEND_REPEAT;
        let garbage = await xs.garbagePer((n) => `send("${kind}", ${n})`, repeat);
        while (garbage === null && repeat > 1) {
          repeat >>= 1;
          garbage = await xs.garbagePer((n) => `send("${kind}", ${n})`, repeat);
        }
        sends.push({ kind, label, garbage, repeat });
      }
    }
    await xs.step("closeAll()");

    return {
      perEvaluation,
      importWebsock: xs.difference(withWebsock, bare),
      importHost: xs.difference(withHost, withWebsock),
      installHost: xs.difference(installed, withDriver),
      firstUse: xs.difference(used, installed),
      firstConnectionOpen: xs.difference(firstOpen, used),
      firstConnectionLeft: xs.difference(firstClosed, used),
      perIdleConnection: { slots: perConnection.slots / EXTRA_CONNECTIONS, chunkBytes: perConnection.chunkBytes / EXTRA_CONNECTIONS, keys: perConnection.keys / EXTRA_CONNECTIONS },
      leftAfterClosingAll: xs.difference(allClosed, firstClosed),
      echo,
      echoSend,
      hostEcho,
      sends,
    };
  } finally {
    await xs.close();
  }
}

// ---- the table ----

const ESP32_SLOT = 16;
const SLOT_64 = 32;

function bytes(n: number): string {
  return `${formatCount(Math.round(n))} B`;
}

function ram(slots: number, chunkBytes: number, slotBytes: number): number {
  return slots * slotBytes + chunkBytes;
}

/** A row for a live-heap figure: slots, chunk bytes, keys, RAM at 16 B and 32 B slots, the goal, whether it is met. */
function heapRow(figure: string, h: LiveHeap, goal = "", met = ""): string[] {
  return [figure, formatCount(h.slots), bytes(h.chunkBytes), formatCount(h.keys), bytes(ram(h.slots, h.chunkBytes, ESP32_SLOT)), bytes(ram(h.slots, h.chunkBytes, SLOT_64)), goal, met];
}

function yesNo(ok: boolean): string {
  return ok ? "yes" : "**no**";
}

function table(f: Figures): string {
  const rows: string[][] = [];
  const sum = (a: LiveHeap, b: LiveHeap): LiveHeap => ({ slots: a.slots + b.slots, chunkBytes: a.chunkBytes + b.chunkBytes, keys: a.keys + b.keys });
  const importAndUse = sum(f.importWebsock, f.firstUse);
  rows.push(heapRow("import websock (src/websock.ts bundle evaluated; in flash on ESP32 when preloaded)", f.importWebsock));
  const firstUse = ram(f.firstUse.slots, f.firstUse.chunkBytes, ESP32_SLOT);
  rows.push(heapRow("first use: the API bound to the host, websock_last_error() once", f.firstUse, "≤ 2,048 B with a preloaded import", yesNo(firstUse <= 2048)));
  rows.push(heapRow("import websock + first use, nothing preloaded", importAndUse));
  rows.push(heapRow("(the XS test host: import)", f.importHost));
  rows.push(heapRow("(the XS test host: installXsTestHost())", f.installHost));
  rows.push(heapRow("first connection open (rx + tx 1 KiB)", f.firstConnectionOpen));
  rows.push(heapRow("left once the first connection is closed", f.firstConnectionLeft));
  const c = f.perIdleConnection;
  rows.push(heapRow("per further idle open connection (rx + tx 1 KiB)", c));
  rows.push([
    "per idle connection beyond rx + tx",
    formatCount(c.slots),
    bytes(c.chunkBytes - 2 * SMALL),
    formatCount(c.keys),
    bytes(ram(c.slots, c.chunkBytes - 2 * SMALL, ESP32_SLOT)),
    bytes(ram(c.slots, c.chunkBytes - 2 * SMALL, SLOT_64)),
    "≤ 100 slots and ≤ 512 B chunk",
    yesNo(c.slots <= 100 && c.chunkBytes - 2 * SMALL <= 512),
  ]);
  rows.push(heapRow(`left after closing ${1 + EXTRA_CONNECTIONS} connections`, f.leftAfterClosingAll, "0", yesNo(f.leftAfterClosingAll.slots === 0 && f.leftAfterClosingAll.chunkBytes === 0)));
  /** A row for a garbage figure (slots per message; chunks cannot be read). */
  const garbageRow = (figure: string, g: PerMessage, goal = "", met = ""): string[] => [
    figure,
    g === null ? "n/a (a collection ran)" : formatCount(g.slots),
    "not measurable",
    "",
    g === null ? "" : bytes(g.slots * ESP32_SLOT),
    g === null ? "" : bytes(g.slots * SLOT_64),
    goal,
    met,
  ];
  const pieces = (g: PerMessage): string => (g === null || g.pieces === 0 ? "" : `, ${formatCount(g.pieces)} piece${g.pieces === 1 ? "" : "s"} each`);
  const models = [["callback", "callback model"], ["recv", "websock_recv loop"], ["recvNow", "websock_recv_now polled"]] as const;
  for (const [model, label] of models) {
    const e = f.echo[model];
    if (e === undefined) {
      rows.push([`${label}: not in this API`, "", "", "", "", "", "", ""]);
      continue;
    }
    rows.push(heapRow(`${label}: retained by ${formatCount(ECHOES)} × 1 KiB echoes`, e.retained, "0", yesNo(e.retained.slots === 0 && e.retained.chunkBytes === 0)));
    rows.push(garbageRow(`${label}: garbage per echo, send + receive (slots left for the collector${pieces(e.garbage)})`, e.garbage));
    rows.push([`${label}: collections during ${formatCount(ECHOES)} echoes in xsnap's heap; chunk space added`, formatCount(e.collections), bytes(e.allocate), "", "", "", model === "callback" ? "(≤ 8 GCs: simulator creation)" : "", ""]);
  }
  rows.push(garbageRow("the send share of an echo: a 1 KiB binary send alone, awaited", f.echoSend));
  rows.push(garbageRow(`the XS test host's own share: 1 KiB out and back through its bare Transport${pieces(f.hostEcho)}`, f.hostEcho));
  // The callback model's send is not awaited (a callback cannot wait): the awaited send alone is no share of its echo.
  const recv = f.echo.recv.garbage;
  const recvShare: PerMessage = recv === null || f.echoSend === null ? null : { slots: recv.slots - f.echoSend.slots, pieces: recv.pieces };
  // Its Promise and await (about 20 slots each in XS) and the test host's garbage are in it: the goal,
  // websock's own beyond its Promise, is xs-loopback's row.
  rows.push(garbageRow("websock_recv loop: per message received (echo less the send; its Promise and the host's share included)", recvShare, "(≤ 10 beyond its Promise: xs-loopback)", ""));
  for (const [label] of SEND_SIZES) {
    const binary = f.sends.find((s) => s.kind === "binary" && s.label === label)!;
    for (const s of [f.sends.find((x) => x.kind === "text" && x.label === label)!, binary]) {
      const text = s.kind === "text";
      rows.push(garbageRow(
        `${label} ${s.kind} send: garbage per send${s.repeat !== SEND_REPEAT ? ` (over ${s.repeat})` : ""}`,
        s.garbage,
        text ? "≤ binary" : "",
        text && s.garbage !== null && binary.garbage !== null ? yesNo(s.garbage.slots <= binary.garbage.slots) : "",
      ));
    }
  }
  return markdownTable(["figure", "slots", "chunk", "keys", "RAM, 16 B slots (ESP32)", "RAM, 32 B slots (64-bit)", "goal (issue 17)", "met"], rows, 1);
}

const started = Date.now();
const server = await startWsServer();
const raw = await startRawEchoServer(SMALL);
try {
  const first = await measureAll(server, raw.port);
  const second = await measureAll(server, raw.port);
  if (!isDeepStrictEqual(first, second)) {
    throw new Error(`two runs disagree: not deterministic\n${JSON.stringify(first)}\n${JSON.stringify(second)}`);
  }
  console.log(`websock's memory inside XS (${xsEngineVersion()}), through the websock_* API over the XS test host and a ws server on 127.0.0.1\n`);
  console.log(table(first));
  const e = first.perEvaluation;
  console.log(
    `\n(live figures: from heap snapshots, which collect everything collectable first: slots, chunk bytes as the 64-bit snapshot` +
      ` stores them, keys added to the key table; less what evaluating a script leaves of its own (${e.slots} slot, ${e.chunkBytes} B,` +
      ` ${e.keys} key each, measured). RAM = slots × 16 B (ESP32) or × 32 B (64-bit) + chunk bytes (the 64-bit ones in both columns).` +
      ` xsnap preloads nothing: the import rows include the byte code and every object the modules make, which a preloaded module` +
      ` keeps in flash on ESP32, and the bundle's export object (a getter per name).\n` +
      ` garbage: slots in use after a run minus those after a full collection just before it, for ${1 + ECHOES} echoes less 1 echo,` +
      ` over ${ECHOES} (sends: ${1 + SEND_REPEAT} less 1, over ${SEND_REPEAT}, or fewer where said), in a slot heap first grown by` +
      ` ${formatCount(RESERVE_SLOTS)} slots so that no collection runs (a FinalizationRegistry probe checks; n/a if one still did).` +
      ` It includes the XS test host's own objects per delivery (the event's ArrayBuffer and view, each write's request). Chunk` +
      ` garbage cannot be read: the meter has no chunk count and a snapshot collects first. xsnap-worker counts no collections` +
      ` (built without mxInstrument): "collections" counts the deliveries in which the probe saw one, in xsnap's own creation` +
      ` (256 Ki slots, 32 MiB chunks: far larger than a device's); "chunk space added" is the meter's allocate.` +
      ` Echoes: binary, 1 KiB, one in flight, rx and tx ${SMALL} B, each model on a connection of its own; the recv loop awaits` +
      ` websock_send_binary and each websock_recv (${SMALL} B reads, no timeout); the callback, registered once per connection,` +
      ` sends the next echo without awaiting, and so does the websock_recv_now loop, polled after every event of the host. Sends: to a server that discards them,` +
      ` rx and tx ${SEND_BUFFER} B, each send awaited, text is ASCII. Every figure measured twice, in two fresh workers, and` +
      ` identical. ${((Date.now() - started) / 1000).toFixed(1)} s in all)`,
  );
} finally {
  await raw.stop();
  await server.stop();
}
