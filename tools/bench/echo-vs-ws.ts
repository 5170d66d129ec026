// `npm run bench` (via run.mjs), or alone: `node --import tsx tools/bench/echo-vs-ws.ts`.
//
// Echo throughput and round-trip latency of websock's Node client against the
// `ws` package's client, both talking to the same `ws` echo server on
// 127.0.0.1, in one run. The server runs in a worker thread (its own core on
// a 2-core machine); the two clients take turns in this thread, round after
// round, who goes first alternating (websock then ws, ws then websock, ...),
// so that whatever else the machine is doing falls on both alike.
//
// Each round of one client on one row, on a fresh connection:
//   throughput: WINDOW messages in flight (sent, not yet echoed back whole;
//     fewer for big messages: at most 4 MiB); each echo completed sends one
//     more. Once the first window has come back (the pipeline is full),
//     echoes are counted for THROUGHPUT_MS: the steady state.
//   latency: one message at a time, for LATENCY_MS: each round trip timed.
// Before a row's counted rounds, each client runs WARM_UP_ROUNDS rounds that
// are not counted: V8 compiles the row's paths (the server's too) over the
// first second or so, and without them the first two rounds ran at a quarter
// to a half of the rest, the first client of the first round the slowest.
// A row reports the median counted round's throughput and the percentiles of
// all round trips of all counted rounds.
//
// websock is measured as it ships: the Node entry bundled by esbuild as
// tools/build.mjs bundles it (see loadWebsock).
//
// How each client is used, as an application would:
//   websock: websock_send_text(h, string) / websock_send_binary(h, bytes)
//     without awaiting each send (sends queue in call order); websock_recv
//     into one fixed 64 KiB buffer, piece by piece (it never reassembles),
//     a message counted when fin && bytesleft === 0.
//   ws: ws.send(string | bytes); one 'message' event per whole message (ws
//     assembles it into a Buffer and validates text as UTF-8, as websock does;
//     neither decodes text into a string).

import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { echoPayload, median } from "./lib/echo.js";
import { loadWebsock } from "./lib/load-websock.js";
import { WebSocket } from "ws";

const { websock_close, websock_last_error, websock_msg_hdr_init, websock_open, websock_recv, websock_send_binary, websock_send_text } = await loadWebsock();

const SIZES: Array<[string, number]> = [
  ["16 B", 16],
  ["1 KiB", 1024],
  ["64 KiB", 65536],
  ["1 MiB", 1048576],
];
const KINDS = ["text", "binary"] as const;
type Kind = (typeof KINDS)[number];

/** Rounds per client per row (alternating), the uncounted ones before them, and the time each phase of a round runs. */
const ROUNDS = 7;
const WARM_UP_ROUNDS = 2;
const THROUGHPUT_MS = 300;
const LATENCY_MS = 200;
/** Messages in flight during the throughput phase, and at most these many bytes of them. */
const WINDOW = 16;
const MAX_IN_FLIGHT = 4 * 1048576;
/** websock's rx_buffer_size and tx_buffer_size: its defaults, unless BENCH_BUFFER says otherwise. */
const BUFFER = Number(process.env.BENCH_BUFFER ?? 4096);
/** Only the rows whose "type payload" contains this ("text 1 MiB"); all when empty. */
const ONLY = process.env.BENCH_ONLY ?? "";
/** The application's websock_recv buffer. */
const READ_BUFFER = 65536;

/**
 * The server, in a worker thread: ws, echoing every message as it came (text
 * as text, binary as binary). Plain JavaScript evaluated in the worker, since
 * tsx's loader does not reach into worker threads.
 */
const SERVER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { WebSocketServer } = require(workerData.ws);
const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false, maxPayload: 2 * 1048576 });
server.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
});
server.on("listening", () => parentPort.postMessage(server.address().port));
parentPort.on("message", () => {
  for (const c of server.clients) c.terminate();
  server.close(() => process.exit(0));
});
`;

interface Round {
  /** Messages echoed per second in the throughput phase. */
  rate: number;
  /** Round-trip times of the latency phase, ms. */
  rtts: number[];
}

interface Client {
  name: string;
  round(port: number, kind: Kind, payload: string | Uint8Array, size: number): Promise<Round>;
}

const websockClient: Client = {
  name: "websock",
  async round(port, kind, payload, size) {
    const h = await websock_open({ hostname: "127.0.0.1", port, uri: "/", rx_buffer_size: BUFFER, tx_buffer_size: BUFFER });
    if (h === null) throw new Error(`websock_open: ${websock_last_error().message}`);
    const hdr = websock_msg_hdr_init();
    const buf = new Uint8Array(READ_BUFFER);
    // Sends are not awaited, as ws.send is not: a send that fails fails the connection, and the next recv says so.
    const send = (): void => {
      void (kind === "text" ? websock_send_text(h, payload) : websock_send_binary(h, payload as Uint8Array));
    };
    const recv = (): Promise<number> => websock_recv(h, hdr, buf, READ_BUFFER, 10000);
    /** Checks what websock_recv returned; true when the piece ends a message. */
    const endsMessage = (n: number): boolean => {
      if (n < 0 || hdr.opcode < 0) throw new Error(`websock_recv: ${n} ${websock_last_error(h).message}`);
      return hdr.fin && hdr.bytesleft === 0;
    };

    // Throughput.
    const pacer = new Pacer(size);
    for (let i = 0; i < pacer.window; i++) send();
    while (!pacer.done) {
      if (endsMessage(await recv()) && pacer.echoed(performance.now())) send();
    }
    const rtts = await timeRoundTrips(async () => {
      send();
      while (!endsMessage(await recv()));
    });
    await websock_close(h);
    return { rate: pacer.rate, rtts };
  },
};

const wsClient: Client = {
  name: "ws",
  async round(port, kind, payload, size) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false, maxPayload: 2 * 1048576 });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    let onMessage: () => void = () => {};
    ws.on("message", () => onMessage());
    ws.on("error", (e) => {
      throw e;
    });
    const send = (): void => ws.send(payload, { binary: kind === "binary" });

    // Throughput.
    const pacer = new Pacer(size);
    await new Promise<void>((resolve) => {
      onMessage = () => {
        if (pacer.echoed(performance.now())) send();
        if (pacer.done) resolve();
      };
      for (let i = 0; i < pacer.window; i++) send();
    });
    const rtts = await timeRoundTrips(
      () =>
        new Promise<void>((resolve) => {
          onMessage = resolve;
          send();
        }),
    );
    ws.close(1000);
    await new Promise<void>((resolve) => ws.once("close", () => resolve()));
    return { rate: pacer.rate, rtts };
  },
};

/**
 * The throughput phase's bookkeeping, the same for both clients: `window`
 * messages go out at once, and each echo that comes back whole sends one
 * more. The echoes of the first window are a warm-up (the pipeline filling);
 * then echoes are counted for THROUGHPUT_MS; then sending stops and what is
 * still in flight drains, uncounted.
 */
class Pacer {
  readonly window: number;
  private received = 0;
  private sent: number;
  private counted = 0;
  private start = 0;
  private end = 0;

  constructor(size: number) {
    this.window = Math.max(2, Math.min(WINDOW, Math.floor(MAX_IN_FLIGHT / size)));
    this.sent = this.window;
  }

  /** An echo came back whole at `now`; returns whether to send another message. */
  echoed(now: number): boolean {
    this.received++;
    if (this.end !== 0) return false;
    if (this.start === 0) {
      if (this.received === this.window) this.start = now;
    } else if (now - this.start < THROUGHPUT_MS) {
      this.counted++;
    } else {
      this.end = now;
      return false;
    }
    this.sent++;
    return true;
  }

  get done(): boolean {
    return this.end !== 0 && this.received === this.sent;
  }

  /** Echoes per second while counting. */
  get rate(): number {
    return (this.counted / (this.end - this.start)) * 1000;
  }
}

async function timeRoundTrips(roundTrip: () => Promise<void>): Promise<number[]> {
  const rtts: number[] = [];
  const until = performance.now() + LATENCY_MS;
  for (;;) {
    const t0 = performance.now();
    await roundTrip();
    const t1 = performance.now();
    rtts.push(t1 - t0);
    if (t1 >= until) return rtts;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function formatRate(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1);
}

function formatMs(ms: number): string {
  const us = ms * 1000;
  return us < 1000 ? `${Math.round(us)} µs` : `${(us / 1000).toFixed(2)} ms`;
}

function table(header: string[], rows: string[][]): string {
  const lines = [`| ${header.join(" | ")} |`, `|${header.map((h, i) => (i >= 2 ? ` ${"-".repeat(Math.max(1, h.length - 1))}: ` : ` ${"-".repeat(h.length)} `)).join("|")}|`];
  for (const r of rows) lines.push(`| ${r.join(" | ")} |`);
  return lines.join("\n");
}

interface Row {
  kind: Kind;
  label: string;
  size: number;
  rate: Record<string, number>;
  p50: Record<string, number>;
  p99: Record<string, number>;
  samples: Record<string, number>;
}

export async function runEchoBench(): Promise<{ throughput: string; latency: string; rows: Row[] }> {
  const worker = new Worker(SERVER_SOURCE, { eval: true, workerData: { ws: createRequire(import.meta.url).resolve("ws") } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  const clients = [websockClient, wsClient];
  const rows: Row[] = [];
  try {
    for (const kind of KINDS) {
      for (const [label, size] of SIZES) {
        if (ONLY !== "" && !`${kind} ${label}`.includes(ONLY)) continue;
        const payload = echoPayload(kind, size);
        const rates: Record<string, number[]> = { websock: [], ws: [] };
        const rtts: Record<string, number[]> = { websock: [], ws: [] };
        for (let r = -WARM_UP_ROUNDS; r < ROUNDS; r++) {
          // Alternate who goes first, so neither always follows the other.
          const order = (r + WARM_UP_ROUNDS) % 2 === 0 ? clients : [...clients].reverse();
          for (const c of order) {
            const got = await c.round(port, kind, payload, size);
            if (r < 0) continue;
            rates[c.name].push(got.rate);
            rtts[c.name].push(...got.rtts);
          }
        }
        const row: Row = { kind, label, size, rate: {}, p50: {}, p99: {}, samples: {} };
        for (const c of clients) {
          const sorted = rtts[c.name].sort((a, b) => a - b);
          row.rate[c.name] = median(rates[c.name]);
          row.p50[c.name] = percentile(sorted, 50);
          row.p99[c.name] = percentile(sorted, 99);
          row.samples[c.name] = sorted.length;
        }
        rows.push(row);
      }
    }
  } finally {
    worker.postMessage("stop");
    await new Promise((resolve) => worker.once("exit", resolve));
  }
  const throughput = table(
    ["type", "payload", "websock msg/s", "ws msg/s", "websock MB/s", "ws MB/s", "websock/ws"],
    rows.map((r) => [
      r.kind,
      r.label,
      formatRate(r.rate.websock),
      formatRate(r.rate.ws),
      ((r.rate.websock * r.size) / 1e6).toFixed(r.size < 1024 ? 2 : 1),
      ((r.rate.ws * r.size) / 1e6).toFixed(r.size < 1024 ? 2 : 1),
      `${(r.rate.websock / r.rate.ws).toFixed(2)}x`,
    ]),
  );
  const latency = table(
    ["type", "payload", "websock p50", "ws p50", "websock p99", "ws p99", "websock/ws (p50)", "round trips"],
    rows.map((r) => [
      r.kind,
      r.label,
      formatMs(r.p50.websock),
      formatMs(r.p50.ws),
      formatMs(r.p99.websock),
      formatMs(r.p99.ws),
      `${(r.p50.ws / r.p50.websock).toFixed(2)}x`,
      `${r.samples.websock} / ${r.samples.ws}`,
    ]),
  );
  return { throughput, latency, rows };
}

async function main(): Promise<void> {
  const started = Date.now();
  const { throughput, latency } = await runEchoBench();
  console.log(
    `Echo through a ws server on 127.0.0.1 (ws ${wsVersion()}${process.env.WS_NO_BUFFER_UTIL ? " without its optional native addons" : " with bufferutil where installed"}, Node ${process.version}): websock's client vs ws's client, ` +
      `${ROUNDS} alternating rounds each per row after ${WARM_UP_ROUNDS} uncounted ones; websock rx/tx buffers ${BUFFER} B, websock_recv into ${READ_BUFFER} B\n`,
  );
  console.log(
    `Throughput: ${WINDOW} messages in flight (at most ${MAX_IN_FLIGHT / 1048576} MiB), counted for ${THROUGHPUT_MS} ms per round once the ` +
      `first window came back; the median round (MB/s: payload bytes one way, 10^6 B)\n`,
  );
  console.log(throughput);
  console.log(`\nRound-trip latency: one message at a time, ${LATENCY_MS} ms per round; percentiles over every round trip of every round\n`);
  console.log(latency);
  console.log(`\n(websock/ws: websock's speed over ws's: messages per second, or ws's p50 over websock's; above 1.00x websock is faster. ` +
    `${((Date.now() - started) / 1000).toFixed(1)} s in all)`);
}

await main();

function wsVersion(): string {
  return (createRequire(import.meta.url)("ws/package.json") as { version: string }).version;
}
