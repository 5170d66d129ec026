// `npm start`: a tour of the websock_* API against a local echo server on
// 127.0.0.1 that runs on websock's own server side (tools/echo-server.ts).
// It prints every call and what came back.

import {
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
} from "websock-rfc6455";
import { startEchoServer } from "./lib/echo-server.js";

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
  const server = await startEchoServer(0, { subprotocols: ["demo"] });
  const port = server.port;
  console.log(`websock demo: an echo server (websock_attach_server) listens on 127.0.0.1:${port}\n`);

  const h = await websock_open({ hostname: "127.0.0.1", port, uri: "/demo", subprotocols: ["demo"], rx_buffer_size: 256, tx_buffer_size: 256 });
  show(`websock_open(127.0.0.1:${port}/demo, rx 256 B)`, h ? "handle" : websock_last_error());
  if (!h) process.exit(1);
  const info = websock_get_info(h)!;
  show("websock_get_info", { state: info.state, http_status: info.http_status, subprotocol: info.subprotocol });

  show('websock_send_text("Hello from websock ☃")', await websock_send_text(h, "Hello from websock ☃"));
  const text = await receiveMessage(h, 8);
  show("received text (8-byte buffer)", new TextDecoder().decode(text));

  const binary = new Uint8Array(1000).map((_, i) => i & 0xff);
  show("websock_send_binary(1000 bytes)", await websock_send_binary(h, binary));
  const echoed = await receiveMessage(h, 256);
  show("received binary (256-byte buffer)", echoed.every((b, i) => b === binary[i]) ? `${echoed.length} bytes, identical` : "DIFFERENT");

  show('websock_ping(h, "are you there?")', await websock_ping(h, "are you there?"));
  // The server's pong is consumed inside recv: a short recv lets it arrive.
  const hdr = websock_msg_hdr_init();
  show("websock_recv for 100 ms (the pong is consumed inside)", await websock_recv(h, hdr, new Uint8Array(16), 16, 100));

  await websock_close(h);
  show("websock_close(h)", "closed with 1000; the server answered");
  show("what the server saw", server.sessions[0]);
  // No call throws, not even on a handle that is gone: a negative code, and the last error says why.
  const late = await websock_send_text(h, "late");
  const lateError = websock_last_error();
  show("websock_send_text on the closed handle", `${late}: ${lateError.message}`);
  await server.stop();

  console.log(`
What happened: websock opened a WebSocket to its own echo server, sent a text
message and a binary one and got each back piece by piece, through 8-byte and
256-byte buffers (hdr.offset and hdr.bytesleft say where each piece sits),
pinged the server (its pong was consumed inside websock_recv), and closed with
1000. The last call shows the error model: a closed handle is refused with
${late} (${lateError.name}), never with an exception.

Where to read on:
  README.md, "The API"         every call, the config fields, the error codes
  tools/demo.ts                this demo: a whole client to copy from
  npx websock --help           the command line (try: npx websock -l 8080, then
                               npx websock ws://127.0.0.1:8080/ in another terminal)
  README.md, "Moddable"        the same API on an ESP32 or the Moddable simulator
  npm test                     every test: vectors, real peers, TLS, the CLI, XS`);
}

main().catch((e) => {
  console.error(`websock demo failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
