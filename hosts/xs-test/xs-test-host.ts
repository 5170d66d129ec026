/// <reference path="./xsnap-globals.d.ts" />
// The Host interface inside the xsnap worker, for tests only. XS here has no
// sockets, timers or digests: every platform call becomes a message to the
// Node test process over the worker's command channel (protocol.ts), and
// Node's socket and timer events come back as `?` deliveries. The core and
// the websock_* facade above it run in XS, unchanged.
//
// The worker runs only while a delivery is under way: each event from Node
// runs its callbacks, then every promise job they start, before Node may send
// the next. So an application's `await websock_recv(...)` simply resumes in
// the delivery that brought its bytes.

import type { ConnectTarget, Host, TimerTarget, Transport, TransportHandlers } from "../../src/host.js";
import {
  EV_CONNECTED,
  EV_DATA,
  EV_EOF,
  EV_FAILED,
  EV_TIMER,
  FAILURE_KINDS,
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
  asciiJson,
  asciiText,
  f64Bytes,
  message,
  readF64,
  readU32,
  writeU32,
} from "./protocol.js";
import { sha1 } from "./sha1.js";
import type { Utf8Encoder, Utf8Writer } from "../../src/text-cursor.js";

/** websock_utf8.c, when the worker was built with it (tools/xsnap-utf8/build.mjs installs the global). */
const linkedUtf8Writer = (globalThis as { WebsockUtf8Writer?: Utf8Writer }).WebsockUtf8Writer ?? null;

function issue(request: Uint8Array): Uint8Array {
  // issueCommand takes a whole ArrayBuffer: `request` always owns its buffer here.
  return new Uint8Array(issueCommand(request.buffer as ArrayBuffer));
}

/**
 * A TCP connection whose socket lives in the Node process. Arriving chunks
 * wait in `chunks` until the core reads them into its rx buffer; the end of
 * the stream is reported once they are all read.
 */
class XsTransport implements Transport {
  readonly id: number;
  readonly handlers: TransportHandlers;
  /** Drops this transport from the host's table once it is released (else every closed connection would stay reachable). */
  readonly forget: (id: number) => void;
  released = false;
  private readonly chunks: Uint8Array[] = [];
  private headOffset = 0;
  private eofPending = false;

  constructor(id: number, handlers: TransportHandlers, forget: (id: number) => void) {
    this.id = id;
    this.handlers = handlers;
    this.forget = forget;
  }

  read(into: Uint8Array, start: number, end: number): number {
    let o = start;
    while (o < end && this.chunks.length > 0) {
      const head = this.chunks[0];
      const n = Math.min(end - o, head.length - this.headOffset);
      into.set(head.subarray(this.headOffset, this.headOffset + n), o);
      o += n;
      this.headOffset += n;
      if (this.headOffset === head.length) {
        this.chunks.shift();
        this.headOffset = 0;
      }
    }
    if (this.chunks.length === 0 && this.eofPending) {
      this.eofPending = false;
      // Not from inside read() if it can be helped: as the Node and Moddable hosts, on a later job
      // (within the same delivery). The driver copes either way (Session.readIn).
      void Promise.resolve().then(() => {
        if (!this.released) this.handlers.onEnd();
      });
    }
    return o - start;
  }

  write(bytes: Uint8Array): number {
    // Node copies at once: the core may reuse its tx buffer when this returns.
    if (!this.released) issue(message(OP_WRITE, this.id, bytes));
    return bytes.length;
  }

  close(): void {
    if (this.released) return;
    this.released = true;
    this.forget(this.id);
    issue(message(OP_END, this.id));
  }

  destroy(): void {
    if (this.released) return;
    this.released = true;
    this.forget(this.id);
    issue(message(OP_DESTROY, this.id));
  }

  // ---- events from Node ----

  received(bytes: Uint8Array): void {
    if (this.released) return;
    this.chunks.push(bytes);
    this.handlers.onReadable();
  }

  ended(): void {
    if (this.released) return;
    if (this.chunks.length > 0) this.eofPending = true;
    else this.handlers.onEnd();
  }
}

export interface XsTestHost {
  readonly host: Host;
  /** Sends a test entry's result to Node (REPORT), as ASCII JSON. */
  report(value: unknown): void;
  /** Transports opened so far (for the test's own checks). */
  readonly connections: number;
}

/**
 * Creates the host and installs globalThis.handleCommand to receive Node's
 * events. One per worker.
 */
export function installXsTestHost(): XsTestHost {
  const transports = new Map<number, XsTransport>();
  const timers = new Map<number, TimerTarget>();
  let nextConnection = 1;
  let nextTimer = 1;
  const forget = (id: number): void => {
    transports.delete(id);
  };

  const host: Host = {
    connect(target: ConnectTarget, handlers: TransportHandlers): Transport {
      // checkSsl refuses secured connections before this; websock_open turns a throw into a connect failure.
      if (target.secured) throw new Error("the XS test host has no TLS");
      const id = nextConnection++;
      const transport = new XsTransport(id, handlers, forget);
      transports.set(id, transport);
      const name = asciiBytes(target.hostname);
      const tail = new Uint8Array(2 + name.length);
      tail[0] = target.port >>> 8;
      tail[1] = target.port & 0xff;
      tail.set(name, 2);
      issue(message(OP_CONNECT, id, tail));
      return transport;
    },
    checkSsl(): string | null {
      return "secured connections are not available on the XS test host";
    },
    randomFill(out: Uint8Array): void {
      const request = new Uint8Array(5);
      request[0] = OP_RANDOM;
      writeU32(request, 1, out.length);
      const bytes = issue(request);
      if (bytes.length !== out.length) throw new Error(`RANDOM answered ${bytes.length} bytes, asked ${out.length}`);
      out.set(bytes);
    },
    sha1,
    now(): number {
      return readF64(issue(new Uint8Array([OP_NOW])), 0);
    },
    setTimer(ms: number, target: TimerTarget): unknown {
      const id = nextTimer++;
      timers.set(id, target);
      issue(message(OP_SET_TIMER, id, f64Bytes(ms)));
      return id;
    },
    clearTimer(timer: unknown): void {
      if (typeof timer === "number" && timers.delete(timer)) issue(message(OP_CLEAR_TIMER, timer));
    },
    // xsnap builds in Moddable's native encoder (textencoder.c), as a Moddable app includes it.
    textEncoder: new (globalThis as unknown as { TextEncoder: new () => Utf8Encoder }).TextEncoder(),
    // websock's native writer where the worker has it, as the Moddable host has it in every build.
    utf8Writer: linkedUtf8Writer,
  };

  globalThis.handleCommand = (buffer: ArrayBuffer): undefined => {
    const bytes = new Uint8Array(buffer);
    const id = readU32(bytes, 1);
    switch (bytes[0]) {
      case EV_TIMER: {
        const target = timers.get(id);
        // A timer cleared while its event was on the way is ignored.
        if (target !== undefined) {
          timers.delete(id);
          target.onTimer();
        }
        return undefined;
      }
      case EV_CONNECTED: {
        const t = transports.get(id);
        if (t !== undefined && !t.released) t.handlers.onConnect();
        return undefined;
      }
      case EV_DATA:
        // The delivery's buffer is ours: keep a view, no copy.
        transports.get(id)?.received(bytes.subarray(5));
        return undefined;
      case EV_EOF:
        transports.get(id)?.ended();
        return undefined;
      case EV_FAILED: {
        const t = transports.get(id);
        if (t === undefined || t.released) return undefined;
        t.released = true;
        transports.delete(id);
        t.handlers.onError({ kind: FAILURE_KINDS[bytes[5]] ?? "io", message: asciiText(bytes, 6) });
        return undefined;
      }
      default:
        throw new Error(`XS test host: unknown event 0x${bytes[0].toString(16)}`);
    }
  };

  return {
    host,
    report(value: unknown): void {
      const json = asciiBytes(asciiJson(value));
      const request = new Uint8Array(1 + json.length);
      request[0] = OP_REPORT;
      request.set(json, 1);
      issue(request);
    },
    get connections(): number {
      return nextConnection - 1;
    },
  };
}
