// websock's TLS engines in the Moddable simulator: the failure matrix and the
// RAM of one TLS 1.2 connection, with websock's mbedTLS engine and with
// Moddable's TLS (ssl/session) in the same app. The cases come from
// tools/moddable-tls/servers.ts over a plain ws:// control connection (one
// JSON text message per case, then "END"), so the app is built once and the
// certificates are made when the servers start; every RESULT line is traced
// and sent back on the control connection, which prints it beside what was
// expected.
//
//   npx tsx tools/moddable-tls/servers.ts --once &
//   WEBSOCK_TLS_LIN=$PWD/hosts/moddable/mbedtls/manifest.json \
//     mcconfig -d -m -p lin -t build tools/moddable-tls-app/manifest.json [mode=memory]
//   xvfb-run -a node $MODDABLE/tools/xsbug-log/xsbug-log.js $MODDABLE/build/bin/lin/release/mcsim \
//     $MODDABLE/build/bin/lin/mc/debug/moddable-tls-app/mc.so
//
// Config (mc/config): control (the control server's port), mode ("matrix",
// "memory" or "both"), engines ("mbedtls,moddable").
//
// matrix: each case with each engine: open wss://127.0.0.1:<port>/echo with the
// case's ssl_config, and when open, echo one text message and close; cases the
// control server already has a result for (from a run the simulator did not
// finish) are skipped.
//   RUN <engine> <case>
//   RESULT <engine> <case> <outcome> [tls_reason=...] [alpn=...] <message>
// memory: one idle TLS 1.2 connection per engine (the trusted_ca case, RSA, and
// the ECDSA server), beside a plain ws:// one, measured as examples/memory does: the
// chunk and slot heap in use after Debug.gc() before the open and with the
// connection idle; the handshake's peak from the XS machine's own peak counters
// (websock-sim-probe) and from a 1 ms timer sampling the instruments; mbedTLS's
// heap when the build links the counted libraries (tools/moddable-tls/heap-libs.sh).
// A first connection with each engine warms what is made once.
//   RESULT memory <engine>/<case> <name> <value>

import config from "mc/config";
import Debug from "debug";
import Instrumentation from "instrumentation";
import Timer from "timer";
import { ignoreBrokenPipe, tlsHeap, xsPeak } from "websock-sim-probe";
import TLSEngine from "websock/hosts/moddable/mbedtls/tls-engine";
import {
  websock_close,
  websock_get_info,
  websock_last_error,
  websock_msg_hdr_init,
  websock_open,
  websock_recv,
  websock_send_text,
  type websock_config_t,
  type websock_handle_t,
  type websock_ssl_config_t,
} from "websock";

type Engine = "mbedtls" | "moddable";

interface MatrixCase {
  name: string;
  /** Engines the control server has a result for already (from an earlier run). */
  done: string[];
  port: number;
  server_name: string;
  client: {
    ca?: string;
    cert?: string;
    key?: string;
    pin_sha256?: string[];
    alpn?: string[];
    verify?: boolean;
    min_version?: "TLSv1.2" | "TLSv1.3";
  };
}

const CONTROL = Number(config.control ?? 9440);
const MODE = String(config.mode ?? "matrix");
const ENGINES = String(config.engines ?? "mbedtls,moddable").split(",") as Engine[];
const RX = 1024;
const TX = 1024;
/** hosts/moddable/mbedtls-transport.ts's QUEUE_SIZE: the engine's two queues and the transport's scratch array. */
const QUEUE_SIZE = 2048;
const SLOT_BYTES = 32;

const SLOTS = Instrumentation.map("XS Slot Heap Used");
const CHUNKS = Instrumentation.map("XS Chunk Heap Used");

let control: websock_handle_t | null = null;

/** Traces `line` and sends it to the control server. */
async function report(line: string): Promise<void> {
  trace(`${line}\n`);
  if (control !== null) await websock_send_text(control, line);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => Timer.set(() => resolve(), ms));
}

/** Receives one whole text message (pieces of RX bytes) as a string; null on failure. */
async function receiveText(h: websock_handle_t, timeout: number): Promise<string | null> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(RX);
  let whole: Uint8Array | null = null;
  let at = 0;
  for (;;) {
    const n = await websock_recv(h, hdr, buf, RX, timeout);
    if (n < 0 || hdr.opcode < 0) return null;
    if (whole === null) whole = new Uint8Array(hdr.payload_len);
    whole.set(buf.subarray(0, n), at);
    at += n;
    if (hdr.fin && hdr.bytesleft === 0) return String.fromArrayBuffer(whole.buffer);
  }
}

function configFor(c: MatrixCase, engine: Engine): websock_config_t {
  const ssl: websock_ssl_config_t = { server_name: c.server_name, tls_engine: engine };
  const k = c.client;
  if (k.ca !== undefined) ssl.ca = k.ca;
  if (k.cert !== undefined) ssl.cert = k.cert;
  if (k.key !== undefined) ssl.key = k.key;
  if (k.pin_sha256 !== undefined) ssl.pin_sha256 = k.pin_sha256;
  if (k.alpn !== undefined) ssl.alpn = k.alpn;
  if (k.verify !== undefined) ssl.verify = k.verify;
  if (k.min_version !== undefined) ssl.min_version = k.min_version;
  return {
    hostname: "127.0.0.1", port: c.port, uri: "/echo", secured: true,
    rx_buffer_size: RX, tx_buffer_size: TX, time_out: 20000, ssl_config: ssl,
  };
}

/** One case with one engine: open, echo, close; the outcome as a RESULT line. */
async function runCase(c: MatrixCase, engine: Engine): Promise<void> {
  const h = await websock_open(configFor(c, engine));
  if (h === null) {
    const e = websock_last_error();
    // A config the engine cannot honour is refused before any byte is sent.
    const refused = e.name === "WEBSOCK_ERR_INVALID_ARG" || e.name === "WEBSOCK_ERR_UNSUPPORTED";
    const outcome = e.tls_reason ?? (refused ? "refused" : e.name);
    await report(`RESULT ${engine} ${c.name} ${outcome} error=${e.name}${e.tls_reason ? ` tls_reason=${e.tls_reason}` : ""} ${e.message}`);
    return;
  }
  const info = websock_get_info(h);
  const tls = info?.tls;
  let outcome = "ok";
  let detail = "";
  const sent = await websock_send_text(h, `hello over ${engine}`);
  const echoed = sent === 0 ? await receiveText(h, 10000) : null;
  if (echoed !== `hello over ${engine}`) {
    const e = websock_last_error(h);
    outcome = "echo_failed";
    detail = ` ${e.name} ${e.message}`;
  }
  await websock_close(h);
  await report(`RESULT ${engine} ${c.name} ${outcome} ${tls ? `${tls.version} ${tls.cipher} alpn=${tls.alpn === "" ? "-" : tls.alpn}` : "no tls info"}${detail}`);
}

/** Instruments as they stand. */
function reading(): { chunks: number; slots: number } {
  return { chunks: Instrumentation.get(CHUNKS) ?? -1, slots: Instrumentation.get(SLOTS) ?? -1 };
}

/** After a full collection: what is retained. */
function retained(): { chunks: number; slots: number } {
  Debug.gc();
  return reading();
}

/** What measure() holds: dropped before the figures after close, so that nothing of the connection is kept by the app. */
const held: { h: websock_handle_t | null } = { h: null };

/** One connection measured; `engine` "none" is the plain ws:// baseline (the control server). */
async function measure(label: string, cfg: websock_config_t, engine: Engine | "none"): Promise<void> {
  // A first connection like it: modules' first use, the entropy pool (made once per process).
  held.h = await websock_open(cfg);
  if (held.h === null) {
    await report(`RESULT memory ${label} failure ${JSON.stringify(websock_last_error().message)}`);
    return;
  }
  await websock_close(held.h);
  held.h = null;
  await sleep(100);

  // The instruments sampled every millisecond during an open (between the turns of the handshake),
  // into numbers kept in one object: the sampler allocates nothing itself. A run of its own, so
  // that its timer is not in the peak measured below.
  const start = retained();
  const sampled = { chunks: start.chunks, slots: start.slots };
  const sampler = Timer.repeat(() => {
    const chunks = Instrumentation.get(CHUNKS) ?? 0;
    const slots = Instrumentation.get(SLOTS) ?? 0;
    if (chunks > sampled.chunks) sampled.chunks = chunks;
    if (slots > sampled.slots) sampled.slots = slots;
  }, 1);
  held.h = await websock_open(cfg);
  Timer.clear(sampler);
  if (held.h !== null) await websock_close(held.h);
  held.h = null;
  await sleep(100);

  // The measured open: the XS machine's own peaks and mbedTLS's heap from here.
  const before = retained();
  const heapBefore = tlsHeap(true);
  xsPeak(true);
  held.h = await websock_open(cfg);
  const peak = xsPeak();
  const heapOpen = tlsHeap();
  if (held.h === null) {
    await report(`RESULT memory ${label} failure ${JSON.stringify(websock_last_error().message)}`);
    return;
  }
  const tls = websock_get_info(held.h)?.tls;
  await sleep(100);
  const idle = retained();
  const heapIdle = tlsHeap();
  await websock_close(held.h);
  held.h = null;
  await sleep(100);
  const after = retained();
  const heapAfter = tlsHeap();

  const r = (name: string, value: number | string): Promise<void> => report(`RESULT memory ${label} ${name} ${value}`);
  await r("tls", tls ? `${tls.version}_${tls.cipher}` : "none");
  await r("idle.chunk_bytes", idle.chunks - before.chunks);
  await r("idle.chunk_bytes_beyond_rx_tx", idle.chunks - before.chunks - RX - TX);
  await r("idle.slots", (idle.slots - before.slots) / SLOT_BYTES);
  await r("handshake_peak.chunk_bytes", peak.chunks - before.chunks);
  await r("handshake_peak.slots", (peak.slots - before.slots) / SLOT_BYTES);
  await r("handshake_sampled_1ms.chunk_bytes", sampled.chunks - start.chunks);
  await r("handshake_sampled_1ms.slots", (sampled.slots - start.slots) / SLOT_BYTES);
  await r("after_close.chunk_bytes", after.chunks - before.chunks);
  await r("after_close.slots", (after.slots - before.slots) / SLOT_BYTES);
  if (engine === "mbedtls") {
    const caps = TLSEngine.capabilities();
    if (caps !== null) {
      await r("mbedtls.version", JSON.stringify(caps.version));
      await r("mbedtls.record_buffers", `${caps.inContentLength}_in_${caps.outContentLength}_out`);
      await r("engine_block_bytes", caps.engineSize + 2 * QUEUE_SIZE);
      await r("scratch_array_bytes", QUEUE_SIZE);
    }
    if (heapOpen.allocations === 0) await r("mbedtls_heap", "not_counted_(shared_libraries)");
    else {
      await r("mbedtls_heap.open", heapIdle.current - heapBefore.current);
      await r("mbedtls_heap.handshake_peak", heapOpen.peak - heapBefore.current);
      await r("mbedtls_heap.allocations_in_open", heapOpen.allocations - heapBefore.allocations);
      await r("mbedtls_heap.after_close", heapAfter.current - heapBefore.current);
    }
  }
}

async function main(): Promise<void> {
  // Some servers close in the middle of a handshake: a write then must fail, not end the simulator.
  ignoreBrokenPipe();
  control = await websock_open({ hostname: "127.0.0.1", port: CONTROL, uri: "/", secured: false, rx_buffer_size: RX, tx_buffer_size: TX, time_out: 10000 });
  if (control === null) {
    trace(`tls app: no control server on ws://127.0.0.1:${CONTROL}/: ${websock_last_error().message}\n`);
    return;
  }
  const cases: MatrixCase[] = [];
  for (;;) {
    const text = await receiveText(control, 10000);
    if (text === null || text === "END") break;
    cases.push(JSON.parse(text) as MatrixCase);
  }
  const caps = TLSEngine.capabilities();
  await report(`tls app: ${cases.length} cases, mode ${MODE}, engines ${ENGINES.join(",")}; mbedTLS engine: ${caps === null ? "not in this build" : caps.version}`);
  if (MODE === "matrix" || MODE === "both") {
    for (const engine of ENGINES) {
      for (const c of cases) {
        if (c.done.includes(engine)) continue;
        await report(`RUN ${engine} ${c.name}`);
        await runCase(c, engine);
      }
    }
  }
  if (MODE === "memory" || MODE === "both") {
    const byName = (name: string): MatrixCase | undefined => cases.find((c) => c.name === name);
    const trusted = byName("trusted_ca");
    const ecdsa = byName("ecdsa_server");
    // The baseline: the same connection without TLS (ws:// to the control server, which sends nothing on /baseline).
    await measure("none/plain_ws", { hostname: "127.0.0.1", port: CONTROL, uri: "/baseline", secured: false, rx_buffer_size: RX, tx_buffer_size: TX, time_out: 10000 }, "none");
    for (const engine of ENGINES) if (trusted) await measure(`${engine}/${trusted.name}`, configFor(trusted, engine), engine);
    for (const engine of ENGINES) if (ecdsa) await measure(`${engine}/${ecdsa.name}`, configFor(ecdsa, engine), engine);
  }
  await report("DONE");
  await websock_close(control);
}

main().catch((e: unknown) => trace(`tls app: internal error: ${String(e)}\n`));
