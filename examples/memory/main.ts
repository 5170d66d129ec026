// What websock costs in XS memory, measured in the Moddable simulator (issue 17's
// "XS memory" figures): the import and first use of the API, each idle open
// connection, and 1,000 sequential echoes through the callback model, through
// the websock_recv loop, and through websock_recv_now polled by a timer.
// `moddable-client/` is the same app on
// Moddable's own ECMA-419 WebSocket client, for the side-by-side figures.
//
//   node dist/tools/echo-server.js 8080            # websock's echo server, rx/tx 1 KiB
//   mcconfig -d -m -p lin -t build examples/memory/manifest.json
//   xvfb-run -a node $MODDABLE/tools/xsbug-log/xsbug-log.js $MODDABLE/build/bin/lin/release/mcsim \
//     $MODDABLE/build/bin/lin/mc/debug/memory/mc.so
//
// garbage/manifest.json builds this app with heaps large enough (1 MiB of
// chunks, 131,072 slots) that 200 echoes run without a collection, for the
// garbage each echo leaves; the default creation (as the root manifest's) gives
// the collection counts.
//
// deflate/manifest.json builds it for permessage-deflate's figures (issue 15):
// `deflate=N` (9 to 15) opens every connection with
// `deflate: { server_max_window_bits: N }` (0, the default: no deflate), against
// tools/deflate-echo-server.ts, which compresses every echo; `payload=telemetry`
// sends compressible JSON-like bytes instead of the byte pattern; `probe=K`
// adds K callback echoes that each force a collection at their first piece, for
// what is live while a message is being inflated.
//
// Every figure comes from the instruments (the counters xsbug shows): slot heap
// and chunk heap in use, garbage collections, promises settled. "After a
// collection" means after Debug.gc(); those forced collections are not counted
// in the GC figures. A slot is 32 bytes in the 64-bit simulator (16 on ESP32).
// Lines starting with "RESULT" are the figures, one per line, for a script to read.
//
// The simulator resets its counts of collections and of settled promises at
// each instruments sample (once a second), so the app cannot total them alone:
// it prints "MARK <phase>.begin|end gcs=G promises=P" (the counts since the last
// sample) around each echo phase, and the total is the sum of the samples the
// debugger received between the marks, minus the first mark's counts, plus the
// last mark's. xsbug shows those samples; a log of them gives the same sum.

import config from "mc/config";
import Debug from "debug";
import Instrumentation from "instrumentation";
import Timer from "timer";
import type { websock_handle_t, websock_msg_hdr_t } from "websock";

type Websock = typeof import("websock");

const PORT = Number(config.port ?? 8080);
const CONNECTIONS = Number(config.connections ?? 4);
const ECHOES = Number(config.echoes ?? 1000);
const SIZE = Number(config.size ?? 1024);
const RX = Number(config.rx ?? 1024);
const TX = Number(config.tx ?? 1024);
/** 1: the echoes run with the other connections closed; 0: with all of them open. */
const CLOSE_OTHERS = Number(config.close_others ?? 1) !== 0;
/** 9..15: permessage-deflate with that server_max_window_bits; 0: none. */
const DEFLATE = Number(config.deflate ?? 0);
/** "pattern" (the default) or "telemetry" (JSON-like text, compressible). */
const PAYLOAD_KIND = String(config.payload ?? "pattern");
/** Echoes with a forced collection at their first piece (0: none). */
const PROBE = Number(config.probe ?? 0);
const SLOT_BYTES = 32;

const SLOTS = Instrumentation.map("XS Slot Heap Used");
const CHUNKS = Instrumentation.map("XS Chunk Heap Used");
const GCS = Instrumentation.map("XS Garbage Collection Count");
const PROMISES = Instrumentation.map("XS Promises Settled");

/** Instruments read as they stand (reading them allocates nothing). */
interface Reading {
  chunks: number;
  slots: number;
  gcs: number;
  promises: number;
}

function read(): Reading {
  return {
    chunks: Instrumentation.get(CHUNKS) ?? -1,
    slots: Instrumentation.get(SLOTS) ?? -1,
    gcs: Instrumentation.get(GCS) ?? -1,
    promises: Instrumentation.get(PROMISES) ?? -1,
  };
}

/** Instruments after a full collection: what is retained. */
function retained(): Reading {
  Debug.gc();
  return read();
}

function result(name: string, value: number | string): void {
  trace(`RESULT ${name} ${value}\n`);
}

function delta(name: string, from: Reading, to: Reading): void {
  const slots = to.slots - from.slots;
  result(`${name}.chunk_bytes`, to.chunks - from.chunks);
  result(`${name}.slot_bytes`, slots);
  result(`${name}.slots`, slots / SLOT_BYTES);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => Timer.set(() => resolve(), ms));
}

/** The payload each echo sends, and checks on the way back. */
const PAYLOAD = new Uint8Array(SIZE);
if (PAYLOAD_KIND === "telemetry") {
  // As tools/bench/deflate.ts's: readings as JSON, ASCII only.
  let text = "";
  for (let i = 0; text.length < SIZE; i++) text += `{"sensor":${i % 9},"value":${((i * 37) % 1000) / 10},"unit":"C","ok":${i % 3 !== 0}},`;
  for (let i = 0; i < SIZE; i++) PAYLOAD[i] = text.charCodeAt(i);
} else {
  for (let i = 0; i < SIZE; i++) PAYLOAD[i] = (i * 7 + (i >> 8)) & 255;
}

/**
 * The garbage one echo leaves: the mean growth of the slot heap and of the chunk
 * heap from one echo to the next, over the echoes during which no collection
 * ran (a collection shrinks the heap; the simulator resets its collection
 * count at each sample, so a shrinking heap is also taken as a collection).
 * Kept as running sums in one object made before any measurement: recording
 * allocates nothing, and the app adds no per-echo arrays to the heaps it measures.
 */
const tally = { slots: 0, chunks: 0, gcs: 0, quiet: 0, slotGrowth: 0, chunkGrowth: 0, peakSlots: 0, peakChunks: 0 };

function mark(i: number): void {
  const slots = Instrumentation.get(SLOTS) ?? -1;
  const chunks = Instrumentation.get(CHUNKS) ?? -1;
  const gcs = Instrumentation.get(GCS) ?? -1;
  if (i === 0) {
    tally.quiet = tally.slotGrowth = tally.chunkGrowth = 0;
    tally.peakSlots = slots;
    tally.peakChunks = chunks;
  } else if (gcs === tally.gcs && slots >= tally.slots && chunks >= tally.chunks) {
    tally.quiet++;
    tally.slotGrowth += slots - tally.slots;
    tally.chunkGrowth += chunks - tally.chunks;
  }
  if (slots > tally.peakSlots) tally.peakSlots = slots;
  if (chunks > tally.peakChunks) tally.peakChunks = chunks;
  tally.slots = slots;
  tally.chunks = chunks;
  tally.gcs = gcs;
}

interface EchoRun {
  done: number;
  mismatches: number;
  failure: string;
}

/** ECHOES sequential echoes through the callback model: each complete echo sends the next message. */
function echoesByCallback(ws: Websock, h: websock_handle_t, run: EchoRun, callback: { fn: ((h: websock_handle_t, hdr: websock_msg_hdr_t, data: Uint8Array) => void) | null; finish: (() => void) | null; got: number }): Promise<void> {
  return new Promise<void>((resolve) => {
    let progress = 0;
    const watchdog = Timer.repeat(() => {
      if (progress === run.done) {
        run.failure = `no echo for 10 s after ${run.done}`;
        finish();
      }
      progress = run.done;
    }, 10000);
    function finish(): void {
      Timer.clear(watchdog);
      callback.finish = null;
      resolve();
    }
    callback.finish = finish;
    mark(0);
    if (ws.websock_set_callback(h, callback.fn) !== 0) {
      run.failure = `websock_set_callback: ${ws.websock_last_error(h).name}`;
      finish();
      return;
    }
    void ws.websock_send_binary(h, PAYLOAD, SIZE);
  });
}

/** The callback itself, created before the "before" reading so that it is counted on both sides. */
function makeCallback(ws: Websock, run: EchoRun) {
  const state = {
    got: 0,
    finish: null as (() => void) | null,
    fn: null as ((h: websock_handle_t, hdr: websock_msg_hdr_t, data: Uint8Array) => void) | null,
  };
  state.fn = (h: websock_handle_t, hdr: websock_msg_hdr_t, data: Uint8Array): void => {
    if (hdr.opcode < 0) {
      run.failure = `connection ended: ${ws.websock_last_error(h).name}`;
      state.finish?.();
      return;
    }
    const at = state.got;
    for (let i = 0; i < data.length; i++) if (data[i] !== PAYLOAD[at + i]) run.mismatches++;
    state.got += data.length;
    if (!hdr.fin || hdr.bytesleft !== 0) return;
    if (state.got !== SIZE) run.mismatches++;
    state.got = 0;
    run.done++;
    mark(run.done);
    if (run.done === ECHOES) state.finish?.();
    else void ws.websock_send_binary(h, PAYLOAD, SIZE);
  };
  return state;
}

/**
 * ECHOES sequential echoes through websock_send_binary and websock_recv_now,
 * the non-blocking receive, polled by one repeating timer every POLL_MS.
 */
const POLL_MS = 2;
function echoesByRecvNow(ws: Websock, h: websock_handle_t, run: EchoRun, hdr: websock_msg_hdr_t, buf: Uint8Array): Promise<void> {
  return new Promise<void>((resolve) => {
    let got = 0;
    let idlePolls = 0;
    mark(0);
    const poll = Timer.repeat(() => {
      for (;;) {
        const n = ws.websock_recv_now(h, hdr, buf, RX);
        if (n === ws.WEBSOCK_ERR.AGAIN) {
          if (++idlePolls * POLL_MS > 10000) stop("recv_now: nothing within 10 s");
          return;
        }
        if (n < 0) {
          stop(`recv_now: ${ws.websock_last_error(h).name}`);
          return;
        }
        idlePolls = 0;
        for (let i = 0; i < n; i++) if (buf[i] !== PAYLOAD[got + i]) run.mismatches++;
        got += n;
        if (!hdr.fin || hdr.bytesleft !== 0) continue;
        if (got !== SIZE) run.mismatches++;
        got = 0;
        run.done++;
        mark(run.done);
        if (run.done === ECHOES) {
          stop("");
          return;
        }
        void ws.websock_send_binary(h, PAYLOAD, SIZE);
      }
    }, POLL_MS);
    function stop(failure: string): void {
      run.failure = failure;
      Timer.clear(poll);
      resolve();
    }
    void ws.websock_send_binary(h, PAYLOAD, SIZE);
  });
}

/** ECHOES sequential echoes through websock_send_binary and the websock_recv loop. */
async function echoesByRecv(ws: Websock, h: websock_handle_t, run: EchoRun, hdr: websock_msg_hdr_t, buf: Uint8Array): Promise<void> {
  mark(0);
  while (run.done < ECHOES) {
    const sent = await ws.websock_send_binary(h, PAYLOAD, SIZE);
    if (sent < 0) {
      run.failure = `send: ${ws.websock_last_error(h).name}`;
      return;
    }
    let got = 0;
    for (;;) {
      const n = await ws.websock_recv(h, hdr, buf, RX, 10000);
      if (n < 0 || hdr.opcode < 0) {
        run.failure = n < 0 ? `recv: ${ws.websock_last_error(h).name}` : "recv: nothing within 10 s";
        return;
      }
      for (let i = 0; i < n; i++) if (buf[i] !== PAYLOAD[got + i]) run.mismatches++;
      got += n;
      if (hdr.fin && hdr.bytesleft === 0) break;
    }
    if (got !== SIZE) run.mismatches++;
    run.done++;
    mark(run.done);
  }
}

/**
 * What is live while a message is being received (inflated, with deflate): the
 * callback forces a collection at each message's first piece, while that
 * piece's view still points into the rx buffer or the inflate window, and keeps
 * the most of each heap seen, to compare with the heaps once the probe is over.
 */
function makeProbe(ws: Websock, run: EchoRun) {
  const state = {
    got: 0,
    most: { chunks: 0, slots: 0, gcs: 0, promises: 0 } as Reading,
    finish: null as (() => void) | null,
    fn: null as ((h: websock_handle_t, hdr: websock_msg_hdr_t, data: Uint8Array) => void) | null,
  };
  state.fn = (h: websock_handle_t, hdr: websock_msg_hdr_t, data: Uint8Array): void => {
    if (hdr.opcode < 0) {
      run.failure = `connection ended: ${ws.websock_last_error(h).name}`;
      state.finish?.();
      return;
    }
    if (state.got === 0) {
      Debug.gc();
      const slots = Instrumentation.get(SLOTS) ?? -1;
      const chunks = Instrumentation.get(CHUNKS) ?? -1;
      if (slots > state.most.slots) state.most.slots = slots;
      if (chunks > state.most.chunks) state.most.chunks = chunks;
    }
    const at = state.got;
    for (let i = 0; i < data.length; i++) if (data[i] !== PAYLOAD[at + i]) run.mismatches++;
    state.got += data.length;
    if (!hdr.fin || hdr.bytesleft !== 0) return;
    if (state.got !== SIZE) run.mismatches++;
    state.got = 0;
    run.done++;
    if (run.done === PROBE) state.finish?.();
    else void ws.websock_send_binary(h, PAYLOAD, SIZE);
  };
  return state;
}

/** PROBE echoes through the probe's callback. */
function probeEchoes(ws: Websock, h: websock_handle_t, run: EchoRun, probe: ReturnType<typeof makeProbe>): Promise<void> {
  return new Promise<void>((resolve) => {
    let progress = 0;
    const watchdog = Timer.repeat(() => {
      if (progress === run.done) {
        run.failure = `no echo for 10 s after ${run.done}`;
        finish();
      }
      progress = run.done;
    }, 10000);
    function finish(): void {
      Timer.clear(watchdog);
      probe.finish = null;
      resolve();
    }
    probe.finish = finish;
    if (ws.websock_set_callback(h, probe.fn) !== 0) {
      run.failure = `websock_set_callback: ${ws.websock_last_error(h).name}`;
      finish();
      return;
    }
    void ws.websock_send_binary(h, PAYLOAD, SIZE);
  });
}

/** The counts since the last instruments sample, in order with the samples the debugger receives. */
function markPhase(name: string): void {
  const now = read();
  trace(`MARK ${name} gcs=${now.gcs} promises=${now.promises}\n`);
}

function report(name: string, run: EchoRun, before: Reading, after: Reading): void {
  result(`${name}.echoes`, run.done);
  result(`${name}.mismatches`, run.mismatches);
  if (run.failure !== "") result(`${name}.failure`, JSON.stringify(run.failure));
  result(`${name}.echoes_without_collection`, tally.quiet);
  result(`${name}.garbage_slots_per_echo`, tally.quiet === 0 ? "n/a" : (tally.slotGrowth / tally.quiet / SLOT_BYTES).toFixed(1));
  result(`${name}.garbage_chunk_bytes_per_echo`, tally.quiet === 0 ? "n/a" : (tally.chunkGrowth / tally.quiet).toFixed(0));
  result(`${name}.peak_slot_bytes_seen`, tally.peakSlots);
  result(`${name}.peak_chunk_bytes_seen`, tally.peakChunks);
  result(`${name}.peak_chunk_bytes_above_before`, tally.peakChunks - before.chunks);
  delta(`${name}.retained`, before, after);
}

async function main(): Promise<void> {
  trace(`memory: ${CONNECTIONS} connections to ws://127.0.0.1:${PORT}/, ${ECHOES} echoes of ${SIZE} B (${PAYLOAD_KIND}), rx ${RX}, tx ${TX}, others ${CLOSE_OTHERS ? "closed" : "open"} during the echoes, ${DEFLATE > 0 ? `deflate server_max_window_bits ${DEFLATE}` : "no deflate"}\n`);
  const start = retained();
  result("start.chunk_bytes", start.chunks);
  result("start.slot_bytes", start.slots);

  // (a) The import and the first use of the API.
  const ws: Websock = await import("websock");
  const imported = retained();
  delta("import", start, imported);
  ws.websock_last_error();
  const firstUse = retained();
  delta("first_use", imported, firstUse);
  delta("import_and_first_use", start, firstUse);

  // (b) N idle connections, each measured once it is open and the VM is idle.
  const url = ws.websock_parse_url(`ws://127.0.0.1:${PORT}/`);
  if (url === null) throw new Error("websock_parse_url refused the URL");
  const handles: websock_handle_t[] = [];
  const deflate = DEFLATE > 0 ? { server_max_window_bits: DEFLATE } : undefined;
  let previous = firstUse;
  const opened: Reading[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const h = await ws.websock_open({ ...url, rx_buffer_size: RX, tx_buffer_size: TX, time_out: 10000, ...(deflate ? { deflate } : {}) });
    if (h === null) {
      result("open.failure", JSON.stringify(ws.websock_last_error().message));
      return;
    }
    handles.push(h);
    await sleep(100);
    const now = retained();
    delta(`connection_${i + 1}`, previous, now);
    opened.push(now);
    previous = now;
  }
  if (CONNECTIONS > 1) {
    const first = opened[0];
    const last = opened[CONNECTIONS - 1];
    const n = CONNECTIONS - 1;
    result("idle_connection.chunk_bytes_beyond_rx_tx", ((last.chunks - first.chunks) / n - RX - TX).toFixed(0));
    result("idle_connection.slots", ((last.slots - first.slots) / n / SLOT_BYTES).toFixed(0));
  }

  // The echoes run on the first connection, the others closed first (or left open, close_others=0).
  if (CLOSE_OTHERS) {
    for (let i = 1; i < handles.length; i++) await ws.websock_close(handles[i]);
    await sleep(100);
    delta("after_closing_others", opened[CONNECTIONS - 1], retained());
  }
  const h = handles[0];

  // (c1) The callback model.
  {
    const run: EchoRun = { done: 0, mismatches: 0, failure: "" };
    const callback = makeCallback(ws, run);
    const before = retained();
    markPhase("callback.begin");
    await echoesByCallback(ws, h, run, callback);
    markPhase("callback.end");
    ws.websock_set_callback(h, null);
    await sleep(100);
    report("callback", run, before, retained());
  }

  // (c2) The websock_recv loop.
  {
    const run: EchoRun = { done: 0, mismatches: 0, failure: "" };
    const hdr = ws.websock_msg_hdr_init();
    const buf = new Uint8Array(RX);
    const before = retained();
    markPhase("recv.begin");
    await echoesByRecv(ws, h, run, hdr, buf);
    markPhase("recv.end");
    await sleep(100);
    report("recv", run, before, retained());
  }

  // (c3) websock_recv_now, polled.
  {
    const run: EchoRun = { done: 0, mismatches: 0, failure: "" };
    const hdr = ws.websock_msg_hdr_init();
    const buf = new Uint8Array(RX);
    const before = retained();
    markPhase("recv_now.begin");
    await echoesByRecvNow(ws, h, run, hdr, buf);
    markPhase("recv_now.end");
    await sleep(100);
    report("recv_now", run, before, retained());
  }

  // (d) What is live while a message is received (inflated), beyond the idle connection.
  // Against the reading after the probe: one before it would still count the
  // previous phase's buffer, freed during the probe.
  if (PROBE > 0) {
    const run: EchoRun = { done: 0, mismatches: 0, failure: "" };
    const probe = makeProbe(ws, run);
    await probeEchoes(ws, h, run, probe);
    ws.websock_set_callback(h, null);
    const after = retained();
    result("probe.echoes", run.done);
    result("probe.mismatches", run.mismatches);
    if (run.failure !== "") result("probe.failure", JSON.stringify(run.failure));
    delta("probe.live_while_receiving", after, probe.most);
  }

  // What was agreed (read last: websock_get_info makes an object).
  const agreed = ws.websock_get_info(h)?.deflate;
  result("deflate.server_max_window_bits", agreed ? agreed.server_max_window_bits : "none");

  if (!CLOSE_OTHERS) for (let i = 1; i < handles.length; i++) await ws.websock_close(handles[i]);
  await ws.websock_close(h);
  const end = retained();
  result("end.chunk_bytes", end.chunks);
  result("end.slot_bytes", end.slots);
  // A closed handle the app still holds keeps its connection's buffers (and inflater): dropping
  // the closed handles other than h shows what they held.
  handles.length = 0;
  delta("dropped_closed_handles", end, retained());
  trace("memory: done\n");
}

main().catch((e: unknown) => trace(`memory: failed: ${String(e)}\nRESULT failed 1\n`));
