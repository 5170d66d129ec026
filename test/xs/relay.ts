// The Node half of the XS test host (hosts/xs-test/): owns the real sockets
// and timers for a script running in the xsnap worker, answers its
// issueCommand() requests and delivers socket and timer events to it, in the
// wire format of hosts/xs-test/protocol.ts. It decides nothing about
// WebSocket: it only moves bytes and time.

import { randomFillSync } from "node:crypto";
import net from "node:net";
import { performance } from "node:perf_hooks";
import {
  EV_CONNECTED,
  EV_DATA,
  EV_EOF,
  EV_FAILED,
  EV_TIMER,
  OP_CLEAR_TIMER,
  OP_CONNECT,
  OP_DESTROY,
  OP_END,
  OP_NOW,
  OP_RANDOM,
  OP_REPORT,
  OP_SET_TIMER,
  OP_WRITE,
  asciiBytes,
  asciiText,
  f64Bytes,
  message,
  readF64,
  readU32,
} from "../../hosts/xs-test/protocol.js";
import type { XsWorker } from "./xsnap-driver.js";

const EMPTY = new Uint8Array(0);

export interface RelayStats {
  /** Bytes the worker wrote to sockets. */
  bytesOut: number;
  /** Bytes delivered from sockets to the worker. */
  bytesIn: number;
  /** `?` deliveries made (socket and timer events). */
  deliveries: number;
  /** issueCommand requests answered. */
  requests: number;
  /** Compute units of the event deliveries (the worker's meter). */
  compute: number;
}

export class Relay {
  readonly stats: RelayStats = { bytesOut: 0, bytesIn: 0, deliveries: 0, requests: 0, compute: 0 };
  /** Errors of deliveries (an exception inside XS), or of the relay itself. */
  readonly errors: Error[] = [];
  private worker: XsWorker | null = null;
  private readonly sockets = new Map<number, net.Socket>();
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly reports: string[] = [];
  private reportWaiters: Array<(json: string) => void> = [];

  /** Binds the worker (created with `handleCommand: (r) => relay.answer(r)`). */
  attach(worker: XsWorker): void {
    this.worker = worker;
  }

  /** Answers one issueCommand() request from the worker (it is blocked until this returns). */
  answer(request: Uint8Array): Uint8Array {
    this.stats.requests++;
    const id = readU32(request, 1);
    switch (request[0]) {
      case OP_CONNECT:
        this.connect(id, (request[5] << 8) | request[6], asciiText(request, 7));
        return EMPTY;
      case OP_WRITE: {
        const socket = this.sockets.get(id);
        this.stats.bytesOut += request.length - 5;
        // Buffer.from copies: the request's bytes are not ours to keep.
        if (socket !== undefined && !socket.destroyed) socket.write(Buffer.from(request.subarray(5)));
        return EMPTY;
      }
      case OP_END: {
        const socket = this.sockets.get(id);
        this.sockets.delete(id);
        socket?.end(() => socket.destroy());
        return EMPTY;
      }
      case OP_DESTROY:
        this.sockets.get(id)?.destroy();
        this.sockets.delete(id);
        return EMPTY;
      case OP_SET_TIMER: {
        const ms = readF64(request, 5);
        this.timers.set(id, setTimeout(() => {
          this.timers.delete(id);
          this.deliver(message(EV_TIMER, id));
        }, ms));
        return EMPTY;
      }
      case OP_CLEAR_TIMER:
        clearTimeout(this.timers.get(id));
        this.timers.delete(id);
        return EMPTY;
      case OP_NOW:
        return f64Bytes(performance.now());
      case OP_RANDOM: {
        const out = new Uint8Array(id);
        randomFillSync(out);
        return out;
      }
      case OP_REPORT: {
        const json = asciiText(request, 1);
        const waiter = this.reportWaiters.shift();
        if (waiter !== undefined) waiter(json);
        else this.reports.push(json);
        return EMPTY;
      }
      default:
        this.errors.push(new Error(`relay: unknown request 0x${request[0].toString(16)}`));
        return EMPTY;
    }
  }

  /** Resolves with the next REPORT the worker sends (JSON parsed); rejects after `ms`, or on a delivery error. */
  nextReport<T>(ms: number): Promise<T> {
    const queued = this.reports.shift();
    if (queued !== undefined) return Promise.resolve(JSON.parse(queued) as T);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.reportWaiters = this.reportWaiters.filter((w) => w !== take);
        reject(new Error(`no report from XS within ${ms} ms${this.errors.length > 0 ? `; errors: ${this.errors.map(String).join("; ")}` : ""}`));
      }, ms);
      const take = (json: string): void => {
        clearTimeout(timer);
        resolve(JSON.parse(json) as T);
      };
      this.reportWaiters.push(take);
    });
  }

  /** Drops every socket and timer left behind. */
  shutdown(): void {
    for (const socket of this.sockets.values()) socket.destroy();
    this.sockets.clear();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private connect(id: number, port: number, hostname: string): void {
    const socket = net.connect({ host: hostname, port });
    socket.setNoDelay(true);
    this.sockets.set(id, socket);
    let connected = false;
    let over = false;
    socket.once("connect", () => {
      connected = true;
      this.deliver(message(EV_CONNECTED, id));
    });
    socket.on("data", (chunk: Buffer) => {
      this.stats.bytesIn += chunk.length;
      // Hold the socket until the worker has taken this chunk: what waits is bounded by one chunk.
      socket.pause();
      void this.deliver(message(EV_DATA, id, chunk)).then(() => socket.resume());
    });
    socket.on("end", () => {
      if (over) return;
      over = true;
      this.deliver(message(EV_EOF, id));
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (over) return;
      over = true;
      const kind = !connected ? (err.code === "ENOTFOUND" || err.code === "EAI_AGAIN" ? 0 : 1) : 3;
      this.deliver(message(EV_FAILED, id, concat(Uint8Array.of(kind), asciiBytes(`${err.code ?? ""} ${err.message}`))));
    });
    socket.on("close", () => {
      this.sockets.delete(id);
      if (over) return;
      over = true;
      this.deliver(message(EV_FAILED, id, concat(Uint8Array.of(3), asciiBytes("the connection closed without an end"))));
    });
  }

  /** Delivers an event to the worker; deliveries queue behind the current one. */
  protected deliver(event: Uint8Array): Promise<void> {
    const worker = this.worker;
    if (worker === null) return Promise.resolve();
    this.stats.deliveries++;
    return worker.command(event).then(
      (d) => {
        this.stats.compute += d.meter.compute;
      },
      (e: Error) => {
        this.errors.push(e);
      },
    );
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
