// `npm start`: a tour of the websock_* API against a local echo server on
// 127.0.0.1. It prints every call and what came back.

import { WebSocketServer } from "ws";
import type { AddressInfo } from "node:net";
import {
  WEBSOCK_OP,
  websock_close,
  websock_get_info,
  websock_last_error,
  websock_msg_hdr_init,
  websock_open,
  websock_ping,
  websock_recv,
  websock_send_binary,
  websock_send_text,
  type websock_handle_t,
} from "websock";

const OPCODE_NAMES: Record<number, string> = { 0: "continuation", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong" };

function show(what: string, result: unknown): void {
  console.log(`${what.padEnd(52)} -> ${typeof result === "string" ? result : JSON.stringify(result)}`);
}

/** Receives one message through a deliberately small buffer, printing each piece. */
async function receiveMessage(h: websock_handle_t, bufferSize: number): Promise<Uint8Array> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(bufferSize);
  const parts: Uint8Array[] = [];
  for (;;) {
    const n = await websock_recv(h, hdr, buf, bufferSize, 2000);
    if (n < 0) throw new Error(websock_last_error(h).message);
    if (hdr.opcode < 0) throw new Error("nothing arrived within 2 s");
    parts.push(buf.slice(0, n));
    console.log(
      `  piece: ${String(n).padStart(4)} B  opcode=${OPCODE_NAMES[hdr.opcode]} fin=${hdr.fin} ` +
        `payload_len=${hdr.payload_len} offset=${hdr.offset} bytesleft=${hdr.bytesleft}`,
    );
    if (hdr.fin && hdr.bytesleft === 0) break;
  }
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function main(): Promise<void> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => server.on("listening", resolve));
  const pongsSeen: string[] = [];
  let serverSawClose: (code: number) => void = () => {};
  const closedOnServer = new Promise<number>((resolve) => (serverSawClose = resolve));
  server.on("connection", (ws) => {
    ws.on("message", (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    ws.on("ping", (data) => pongsSeen.push(data.toString()));
    ws.on("close", (code) => serverSawClose(code));
  });
  const port = (server.address() as AddressInfo).port;
  console.log(`websock demo: an echo server (the ws package) listens on 127.0.0.1:${port}\n`);

  const h = await websock_open({ hostname: "127.0.0.1", port, uri: "/demo", rx_buffer_size: 256, tx_buffer_size: 256 });
  show(`websock_open(127.0.0.1:${port}/demo, rx 256 B)`, h ? "handle" : websock_last_error());
  if (!h) process.exit(1);
  const info = websock_get_info(h)!;
  show("websock_get_info", { state: info.state, http_status: info.http_status });

  show('websock_send_text("Hello from websock ☃")', await websock_send_text(h, "Hello from websock ☃"));
  const text = await receiveMessage(h, 8);
  show("received text (8-byte buffer)", new TextDecoder().decode(text));

  const binary = new Uint8Array(1000).map((_, i) => i & 0xff);
  show("websock_send_binary(1000 bytes)", await websock_send_binary(h, binary));
  const echoed = await receiveMessage(h, 256);
  show("received binary (256-byte buffer)", echoed.every((b, i) => b === binary[i]) ? `${echoed.length} bytes, identical` : "DIFFERENT");

  show('websock_ping(h, "are you there?")', await websock_ping(h, "are you there?"));
  // The pong is consumed inside recv; a short recv lets it arrive.
  const hdr = websock_msg_hdr_init();
  await websock_recv(h, hdr, new Uint8Array(16), 16, 100);
  show("the server saw pings", pongsSeen);

  await websock_close(h);
  show("websock_close(h); the server saw close code", await closedOnServer);
  show("websock_send_text after close", await websock_send_text(h, "late"));
  show("websock_last_error()", websock_last_error().name);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  console.log(`\nopcodes: ${JSON.stringify(WEBSOCK_OP)}`);
}

main().catch((e) => {
  console.error(`websock demo failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
