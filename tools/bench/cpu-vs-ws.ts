// `npm run bench -- cpu-vs-ws`, or alone: `node --import tsx tools/bench/cpu-vs-ws.ts`.
//
// The client's CPU per round trip, websock's against the `ws` package's,
// measured as CPU time (process.cpuUsage, user + system, of this process
// only) over N round trips of one small message at a time, not as wall time.
// A small echo's wall time on a 2-core machine is the client's CPU plus the
// server's plus the kernel's, and where each runs: echo-vs-ws's latency rows
// move by 10-30% with it. The client's own share is what this measures, on
// two paths:
//   socket: websock_open and ws's `new WebSocket`, over 127.0.0.1 to a ws
//     echo server in another process (its CPU is not counted);
//   stream: over an in-memory peer, a stream.Duplex that answers the upgrade
//     and echoes each frame (unmasked, as a server sends it) one event-loop
//     turn later (setImmediate), as a socket's next read would come: websock
//     through websock_attach_client, ws through its createConnection option.
//     No socket and no system call; the peer's work is in both figures.
//
// How each client is used, as echo-vs-ws's latency phase uses it: websock
// sends without awaiting and reads the echo with websock_recv (a Promise per
// call) into a 64 KiB buffer; ws sends and resolves a Promise on 'message'.
// websock runs as it ships (bundled by esbuild, see loadWebsock).

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { Duplex } from "node:stream";
import { WebSocket } from "ws";
import { echoPayload, median } from "./lib/echo.js";
import { loadWebsock } from "./lib/load-websock.js";
import { formatCount, markdownTable } from "./lib/table.js";

const { websock_attach_client, websock_close, websock_last_error, websock_msg_hdr_init, websock_open, websock_recv, websock_send_binary, websock_send_text } = await loadWebsock();

const SIZES: Array<[string, number]> = [
  ["16 B", 16],
  ["1 KiB", 1024],
];
const KINDS = ["text", "binary"] as const;
type Kind = (typeof KINDS)[number];
const PATHS = ["socket", "stream"] as const;
type Path = (typeof PATHS)[number];
/** Rounds per client per row (alternating who goes first), round trips per round, and the warm-up before each round's count. */
const ROUNDS = 5;
const ROUND_TRIPS = 10000;
const WARM_UP = 5000;
const ONLY = process.env.BENCH_ONLY ?? "";
const READ_BUFFER = 65536;
/** The echo server of the socket path, in its own process: plain JavaScript run by `node -e`. */
const SERVER_SOURCE = `
const { WebSocketServer } = require(process.argv[1]);
const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
server.on("connection", (ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })));
server.on("listening", () => process.stdout.write(server.address().port + "\\n"));
`;
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/**
 * The peer: the server side of an upgrade and an echo, in memory. Input is
 * gathered until a whole request or frame is in (a client may write a
 * frame's header and payload apart), and each answer is pushed on the next
 * turn of the event loop.
 */
class EchoPeer extends Duplex {
  private input: Buffer = Buffer.alloc(0);
  private upgraded = false;

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: string, done: (error?: Error) => void): void {
    this.input = this.input.length === 0 ? chunk : Buffer.concat([this.input, chunk]);
    try {
      this.consume();
      done();
    } catch (e) {
      done(e as Error);
    }
  }

  private consume(): void {
    if (!this.upgraded) {
      const end = this.input.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = this.input.subarray(0, end).toString("latin1");
      this.input = this.input.subarray(end + 4);
      const key = /\r\nsec-websocket-key: *([^\r]*)/i.exec(head)?.[1];
      if (key === undefined) throw new Error("the client sent no Sec-WebSocket-Key");
      const accept = createHash("sha1").update(key + GUID).digest("base64");
      this.upgraded = true;
      this.answer(Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`, "latin1"));
    }
    for (;;) {
      const b = this.input;
      if (b.length < 2) return;
      const short = b[1] & 0x7f;
      if (short === 127) throw new Error("the echo peer takes frames up to 64 KiB");
      const lengthBytes = short === 126 ? 2 : 0;
      if (b.length < 2 + lengthBytes) return;
      const length = short === 126 ? b.readUInt16BE(2) : short;
      const maskAt = 2 + lengthBytes;
      if (b.length < maskAt + 4 + length) return;
      const echo = Buffer.allocUnsafe(maskAt + length);
      echo[0] = b[0];
      echo[1] = short;
      if (lengthBytes === 2) echo.writeUInt16BE(length, 2);
      for (let i = 0; i < length; i++) echo[maskAt + i] = b[maskAt + 4 + i] ^ b[maskAt + (i & 3)];
      this.input = b.subarray(maskAt + 4 + length);
      this.answer(echo);
      // The echo of a close is the peer's close: the stream ends after it.
      if ((b[0] & 0x0f) === 0x8) this.answer(null);
    }
  }

  private answer(bytes: Buffer | null): void {
    setImmediate(() => this.push(bytes));
  }

  // What ws's client (through http.request) calls on its socket.
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}

interface Client {
  name: string;
  /** Microseconds of CPU per round trip over `ROUND_TRIPS`, after `WARM_UP`, on a fresh connection over `path`. */
  round(path: Path, port: number, kind: Kind, payload: string | Uint8Array): Promise<number>;
}

async function cpuPerRoundTrip(roundTrip: () => Promise<void>): Promise<number> {
  for (let i = 0; i < WARM_UP; i++) await roundTrip();
  const start = process.cpuUsage();
  for (let i = 0; i < ROUND_TRIPS; i++) await roundTrip();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / ROUND_TRIPS;
}

const websockClient: Client = {
  name: "websock",
  async round(path, port, kind, payload) {
    const h = path === "socket" ? await websock_open({ hostname: "127.0.0.1", port, uri: "/" }) : await websock_attach_client(new EchoPeer(), 0, "/", "127.0.0.1", {});
    if (h === null) throw new Error(`websock_open / websock_attach_client: ${websock_last_error().message}`);
    const hdr = websock_msg_hdr_init();
    const buf = new Uint8Array(READ_BUFFER);
    const us = await cpuPerRoundTrip(async () => {
      void (kind === "text" ? websock_send_text(h, payload) : websock_send_binary(h, payload as Uint8Array));
      for (;;) {
        const n = await websock_recv(h, hdr, buf, READ_BUFFER, 10000);
        if (n < 0 || hdr.opcode < 0) throw new Error(`websock_recv: ${n} ${websock_last_error(h).message}`);
        if (hdr.fin && hdr.bytesleft === 0) return;
      }
    });
    await websock_close(h);
    return us;
  },
};

const wsClient: Client = {
  name: "ws",
  async round(path, port, kind, payload) {
    const ws =
      path === "socket"
        ? new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false })
        : new WebSocket("ws://127.0.0.1/", { perMessageDeflate: false, createConnection: () => new EchoPeer() as never });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    let onMessage: () => void = () => {};
    ws.on("message", () => onMessage());
    const us = await cpuPerRoundTrip(
      () =>
        new Promise<void>((resolve) => {
          onMessage = resolve;
          ws.send(payload, { binary: kind === "binary" });
        }),
    );
    ws.terminate();
    return us;
  },
};

async function main(): Promise<void> {
  const server = spawn(process.execPath, ["-e", SERVER_SOURCE, createRequire(import.meta.url).resolve("ws")], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.stdout.once("data", (line: Buffer) => resolve(Number(line.toString().trim())));
      server.once("error", reject);
    });
    const clients = [websockClient, wsClient];
    const rows: string[][] = [];
    for (const path of PATHS) {
      for (const kind of KINDS) {
        for (const [label, size] of SIZES) {
          if (ONLY !== "" && !`${path} ${kind} ${label}`.includes(ONLY)) continue;
          const payload = echoPayload(kind, size);
          const got: Record<string, number[]> = { websock: [], ws: [] };
          for (let r = 0; r < ROUNDS; r++) {
            const order = r % 2 === 0 ? clients : [...clients].reverse();
            for (const c of order) got[c.name].push(await c.round(path, port, kind, payload));
          }
          const websock = median(got.websock);
          const ws = median(got.ws);
          rows.push([path, kind, label, `${websock.toFixed(2)} µs`, `${ws.toFixed(2)} µs`, `${(ws / websock).toFixed(2)}x`]);
        }
      }
    }
    console.log(
      `Client CPU per round trip (user + system of this process; socket: to a ws echo server in another process, stream: an in-memory echo peer whose work is in both): ` +
        `${ROUNDS} alternating rounds per client per row, ${formatCount(ROUND_TRIPS)} round trips each after ${formatCount(WARM_UP)} of warm-up, the median round; Node ${process.version}\n`,
    );
    console.log(markdownTable(["path", "type", "payload", "websock CPU", "ws CPU", "websock/ws"], rows, 3));
    console.log("\n(websock/ws: ws's CPU over websock's; above 1.00x websock spends less)");
  } finally {
    server.kill();
  }
}

await main();
