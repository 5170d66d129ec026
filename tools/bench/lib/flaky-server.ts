// The peer of the reconnect memory bench (reconnect-memory.ts): a raw TCP
// server on 127.0.0.1 whose connections follow a fixed cycle of nine, so
// that about half of a client's attempts fail, each way the issue names:
//   open   101, then the connection is dropped at once (a reconnect follows);
//   503    503 Service Unavailable, Retry-After: 0;
//   reset  half a status line, then a TCP reset (mid-handshake);
//   open+refuse  as open, then the port is closed for REFUSE_MS (connects are refused) and opened again.
// Per cycle: five opens; two 503s, two resets and the refused attempts (one or two).
// A checkpoint holds the next open connection instead of dropping it, so the
// client is idle and open while its memory is read.

import { createHash } from "node:crypto";
import net from "node:net";
import type { AddressInfo } from "node:net";

const CYCLE = Object.freeze(["open", "503", "open", "reset", "open", "503", "open", "reset", "open+refuse"] as const);
/** How long the port stays closed after open+refuse: a client with 1-4 ms delays meets it once or twice. */
const REFUSE_MS = 3;

export class FlakyServer {
  port = 0;
  /** Connections accepted (attempts that were not refused), and 101s sent. */
  accepted = 0;
  opens = 0;
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private holdNext = false;
  private held: net.Socket | null = null;
  private heldResolve: ((opens: number) => void) | null = null;
  private stopped = false;

  async start(): Promise<void> {
    await this.listen(0);
  }

  private listen(port: number): Promise<void> {
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        this.port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  /** Resolves with the count of 101s sent once the next open connection is held open. */
  holdNextOpen(): Promise<number> {
    this.holdNext = true;
    return new Promise((resolve) => (this.heldResolve = resolve));
  }

  /** Drops the held connection: the cycle goes on. */
  release(): void {
    this.held?.destroy();
    this.held = null;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => {});
    const kind = CYCLE[this.accepted++ % CYCLE.length];
    let head = "";
    const onData = (chunk: Buffer): void => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      if (kind === "503") {
        socket.end("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      if (kind === "reset") {
        socket.write("HTTP/1.1 10");
        setImmediate(() => socket.resetAndDestroy());
        return;
      }
      const key = /sec-websocket-key:\s*(\S+)/i.exec(head)?.[1] ?? "";
      const accept = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      this.opens++;
      if (this.holdNext) {
        this.holdNext = false;
        this.held = socket;
        const resolve = this.heldResolve!;
        this.heldResolve = null;
        resolve(this.opens);
        return;
      }
      setImmediate(() => socket.destroy());
      if (kind === "open+refuse") this.refuseForAWhile();
    };
    socket.on("data", onData);
  }

  private refuseForAWhile(): void {
    const server = this.server!;
    const port = this.port;
    server.close();
    setTimeout(() => {
      if (!this.stopped) void this.listen(port);
    }, REFUSE_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server !== null && this.server.listening ? this.server.close(() => resolve()) : resolve()));
  }
}
