// `npm run bench` (via run.mjs), or alone: `node --import tsx tools/bench/heap.ts`
// (it needs gc(): without --expose-gc it runs itself again with the flag).
//
// Node heap growth across 100,000 messages, after a warm-up of 20,000: what
// stays allocated once everything collectable has been collected. Measured
// three ways, each on a fresh connection:
//   core: Connection alone, no I/O: each message received (a server frame
//     through the rx buffer, read out) and sent (produced into the tx buffer);
//   websock: the Node client as it ships (bundled by esbuild) echoing
//     through a `ws` server on 127.0.0.1 (server in a worker thread, whose
//     heap is not counted), 16 messages in flight;
//   ws: the `ws` client doing the same, for comparison.
// The heap is read (v8.getHeapStatistics().used_heap_size) after two full
// collections, after the warm-up and then every 25,000 messages; growth per
// message is (last - first) / 100,000. Steady state should show none: a
// figure under 1 B per message is noise (JIT feedback, V8's own caches).

import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { getHeapStatistics } from "node:v8";
import { Worker } from "node:worker_threads";
import { loadWebsock } from "./lib/load-websock.js";
import { WebSocket } from "ws";
import { Connection, NOTHING_READY } from "../../src/connection.js";
import { OutgoingMessage } from "../../src/outgoing.js";
import { sendThrough } from "./lib/bench-connection.js";
import type { websock_msg_hdr_t } from "../../src/types.js";

const collect = (globalThis as { gc?: () => void }).gc;
if (collect === undefined) {
  // Run again with gc() exposed, streaming the output.
  const result = spawnSync(process.execPath, ["--expose-gc", ...process.execArgv, fileURLToPath(import.meta.url)], { stdio: "inherit" });
  process.exit(result.status ?? 1);
}

const { websock_close, websock_last_error, websock_msg_hdr_init, websock_open, websock_recv, websock_send_binary, websock_send_text } = await loadWebsock();

const WARM_UP = 20_000;
const MESSAGES = 100_000;
const SAMPLE_EVERY = 25_000;
const WINDOW = 16;
const SIZE = 1024;
const OPCODE_TEXT = 1;
const OPCODE_BINARY = 2;

const SERVER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { WebSocketServer } = require(workerData.ws);
const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
server.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
});
server.on("listening", () => parentPort.postMessage(server.address().port));
parentPort.on("message", () => {
  for (const c of server.clients) c.terminate();
  server.close(() => process.exit(0));
});
`;

type Kind = "text" | "binary";

function heapUsed(): number {
  collect!();
  collect!();
  return getHeapStatistics().used_heap_size;
}

/** Runs `run(n)` (n messages) for the warm-up, then in steps, reading the heap between them. */
async function track(run: (n: number) => Promise<void> | void): Promise<number[]> {
  await run(WARM_UP);
  const samples = [heapUsed()];
  for (let done = 0; done < MESSAGES; done += SAMPLE_EVERY) {
    await run(SAMPLE_EVERY);
    samples.push(heapUsed());
  }
  return samples;
}

function payloadOf(kind: Kind): { text: string; bytes: Uint8Array } {
  const bytes = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) bytes[i] = kind === "text" ? 0x20 + ((i * 31 + 7) % 95) : (i * 31 + 7) & 0xff;
  return { text: Buffer.from(bytes).toString("latin1"), bytes };
}

/** The core: each message received through the rx buffer and read out, then sent through the tx buffer. */
function coreRunner(kind: Kind): (n: number) => void {
  const conn = new Connection({
    role: "client",
    rxBuffer: new Uint8Array(4096),
    txBuffer: new Uint8Array(4096),
    autoPong: true,
    maxMessageSize: 0,
    pingInterval: 0,
    pongTimeout: 1000,
    closeTimeout: 1000,
    platform: { randomFill: (out: Uint8Array) => out.fill(0x5a), sha1: () => new Uint8Array(20), now: () => 0, textEncoder: new TextEncoder() },
  });
  const message = new OutgoingMessage();
  conn.startOpen();
  const { text, bytes } = payloadOf(kind);
  const opcode = kind === "text" ? OPCODE_TEXT : OPCODE_BINARY;
  const frame = new Uint8Array(4 + SIZE);
  frame.set([0x80 | opcode, 126, SIZE >> 8, SIZE & 255]);
  frame.set(bytes, 4);
  const hdr: websock_msg_hdr_t = { fin: false, opcode: -1, payload_len: 0, offset: 0, bytesleft: 0 };
  const out = new Uint8Array(4096);
  return (n) => {
    for (let m = 0; m < n; m++) {
      let got = 0;
      conn.receiveData(frame);
      for (;;) {
        conn.advance();
        const k = conn.read(hdr, out, 0, out.length);
        if (k === NOTHING_READY) break;
        if (k < 0) throw new Error(`the core failed: ${conn.ending?.error.name}`);
        got += k;
      }
      if (got !== SIZE) throw new Error(`received ${got} bytes`);
      if (kind === "text") message.setText(opcode, true, text, text.length);
      else message.setBytes(opcode, true, bytes, 0, SIZE);
      sendThrough(conn, message);
    }
  };
}

async function websockRunner(port: number, kind: Kind): Promise<{ run: (n: number) => Promise<void>; close: () => Promise<void> }> {
  const h = await websock_open({ hostname: "127.0.0.1", port, uri: "/" });
  if (h === null) throw new Error(`websock_open: ${websock_last_error().message}`);
  const { text, bytes } = payloadOf(kind);
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(SIZE);
  let failed = 0;
  const send = (): void => {
    void (kind === "text" ? websock_send_text(h, text) : websock_send_binary(h, bytes)).then((code) => {
      if (code < 0) failed = code;
    });
  };
  const run = async (n: number): Promise<void> => {
    let sent = 0;
    let received = 0;
    for (; sent < Math.min(WINDOW, n); sent++) send();
    while (received < n) {
      const k = await websock_recv(h, hdr, buf, buf.length, 10000);
      if (k < 0 || hdr.opcode < 0 || failed < 0) throw new Error(`websock: ${k} ${websock_last_error(h).message}`);
      if (hdr.fin && hdr.bytesleft === 0) {
        received++;
        if (sent < n) {
          send();
          sent++;
        }
      }
    }
  };
  return { run, close: () => websock_close(h) };
}

async function wsRunner(port: number, kind: Kind): Promise<{ run: (n: number) => Promise<void>; close: () => Promise<void> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const { text, bytes } = payloadOf(kind);
  const payload = kind === "text" ? text : bytes;
  let onMessage: () => void = () => {};
  ws.on("message", () => onMessage());
  const run = (n: number): Promise<void> =>
    new Promise<void>((resolve) => {
      let sent = 0;
      let received = 0;
      onMessage = () => {
        received++;
        if (sent < n) {
          ws.send(payload, { binary: kind === "binary" });
          sent++;
        }
        if (received === n) resolve();
      };
      for (; sent < Math.min(WINDOW, n); sent++) ws.send(payload, { binary: kind === "binary" });
    });
  const close = async (): Promise<void> => {
    ws.close(1000);
    await new Promise<void>((resolve) => ws.once("close", () => resolve()));
  };
  return { run, close };
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

export async function runHeapBench(): Promise<string> {
  const worker = new Worker(SERVER_SOURCE, { eval: true, workerData: { ws: createRequire(import.meta.url).resolve("ws") } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  const header = ["client", "type", "heap after warm-up", ...Array.from({ length: MESSAGES / SAMPLE_EVERY }, (_, i) => `+${((i + 1) * SAMPLE_EVERY) / 1000}k`), "growth", "per message"];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map((h, i) => (i >= 2 ? ` ${"-".repeat(h.length - 1)}: ` : ` ${"-".repeat(h.length)} `)).join("|")}|`];
  try {
    for (const client of ["core", "websock", "ws"] as const) {
      for (const kind of ["text", "binary"] as const) {
        let samples: number[];
        if (client === "core") {
          samples = await track(coreRunner(kind));
        } else {
          const runner = client === "websock" ? await websockRunner(port, kind) : await wsRunner(port, kind);
          samples = await track(runner.run);
          await runner.close();
        }
        const growth = samples[samples.length - 1] - samples[0];
        const deltas = samples.slice(1).map((s) => `${s - samples[0] >= 0 ? "+" : "-"}${kb(Math.abs(s - samples[0]))}`);
        lines.push(`| ${client} | ${kind} | ${kb(samples[0])} | ${deltas.join(" | ")} | ${growth >= 0 ? "+" : "-"}${kb(Math.abs(growth))} | ${(growth / MESSAGES).toFixed(2)} B |`);
      }
    }
  } finally {
    worker.postMessage("stop");
    await new Promise((resolve) => worker.once("exit", resolve));
  }
  return lines.join("\n");
}

const started = Date.now();
console.log(
  `Node heap (${process.version}; used_heap_size after two gc()) across ${MESSAGES.toLocaleString("en-US")} messages of ${SIZE} B after ` +
    `${WARM_UP.toLocaleString("en-US")} of warm-up; websock with its default 4096 B buffers; echo through a ws server in a worker thread\n`,
);
console.log(await runHeapBench());
console.log(`\n(per message: growth / ${MESSAGES.toLocaleString("en-US")}. ${((Date.now() - started) / 1000).toFixed(1)} s in all)`);
