// `embedded:io/socket/tcp` inside the xsnap worker: the ECMA-419 TCP socket
// as the Moddable SDK's Linux simulator implements it
// (modules/io/socket/lin/tcp.c, SDK 8.2.3), ported line for line where its
// behaviour shows to a script; the socket's system calls go to the Node relay
// (test/xs/ecma419-kernel.ts), which plays the kernel.
//
// What the simulator does, and so what this does:
//  - A poll task runs every kTaskInterval (20 ms there; emulation.tcpPollMs
//    here). It select()s the socket with a zero timeout: for writing while
//    unconnected or while bytesWritable < 1,536, for reading while fewer
//    than 1,536 bytes wait in the read buffer.
//  - Writable: connected; bytesWritable is refilled to 1,536 (so at most
//    1,536 bytes go out per poll) and onWritable(1536) is due. The first one
//    means "connected".
//  - Readable: one read(2) of at most 1,536 - bytesReadable bytes into the
//    socket's own 1,536-byte buffer; onReadable(total waiting) is due.
//    read(2) returning 0 (the peer's FIN) or -1 (reset, refused) sets
//    `error`; onError is due only when no byte waits in the buffer then.
//  - The due callbacks are called at the end of the poll, in this order:
//    onWritable (not after an error), onReadable, onError.
//  - read(buffer) copies exactly buffer.byteLength bytes (throws "invalid"
//    for more than wait); when it empties the buffer of a socket with
//    `error` set, it makes onError due. BUT the poll task returns at once
//    once `error` is set, and only the poll task calls due callbacks: an
//    error found while bytes waited in the buffer is never reported, and no
//    onReadable or onWritable follows it either.
//  - write(bytes) throws "would block" beyond bytesWritable; else write(2)
//    and it returns the new bytesWritable. When write(2) fails, it returns
//    nothing (undefined) and makes onError due (never reported: see above).
//  - close() stops the task and close(2)s the socket; read() and write()
//    on a closed socket throw.
//
// Where this differs from the simulator:
//  - the poll skips the relay round trip when it would select() for nothing
//    (no difference a script can see);
//  - remoteAddress / remotePort give the address and port connected to, not
//    getpeername()'s answer;
//  - there is no Listener: `new TCP()` without options makes an inert
//    instance, and `from` takes over another instance of this class only;
//  - the kernel's side (what select() and write(2) report, RST or FIN at
//    close) is test/xs/ecma419-kernel.ts's, over Node sockets: see there.

import { asciiBytes, message } from "./protocol.js";
import {
  OP_TCP_CLOSE,
  OP_TCP_CONNECT,
  OP_TCP_POLL,
  OP_TCP_WRITE,
  POLL_READABLE,
  POLL_WRITABLE,
  READ_DATA,
  WRITE_FAILED,
  WRITE_OK,
} from "./ecma419-protocol.js";
import { cancelTimer, emulation, issue, startTimer } from "./moddable-shims/runtime.js";

/** lin/tcp.c kBufferSize: the socket's read buffer, and what may be written per poll. */
export const BUFFER_SIZE = 1536;

const TRIGGER_WRITABLE = 1;
const TRIGGER_READABLE = 2;
const TRIGGER_ERROR = 4;

type Format = "buffer" | "number";
type Callback = ((this: TCP, count: number) => void) | null;

interface TcpOptions {
  address?: string;
  port?: number;
  from?: TCP;
  nodelay?: boolean;
  format?: Format;
  target?: unknown;
  onReadable?: (this: TCP, count: number) => void;
  onWritable?: (this: TCP, count: number) => void;
  onError?: (this: TCP) => void;
}

/** The native record (TCPRecord). */
interface Native {
  /** The relay's socket id; -1 once handed to another instance (`from`). */
  skt: number;
  done: boolean;
  error: boolean;
  connected: boolean;
  format: Format;
  triggerable: number;
  triggered: number;
  bytesWritable: number;
  bytesReadable: number;
  readPosition: number;
  readBuf: Uint8Array;
  task: number;
  onReadable: Callback;
  onWritable: Callback;
  onError: (() => void) | null;
  address: string;
  port: number;
}

let nextSocket = 1;

/** What the emulation did that the simulator would not survive, for the test to report. */
export const tcpEvents = {
  /** Writes for which write(2) raised SIGPIPE: the simulator process ends there. */
  sigpipes: [] as string[],
  /** Errors flagged while bytes waited in the read buffer: onError will never be called for them. */
  unreportedErrors: 0,
};

/** A socket's state, for a test's status report. */
export interface TcpStatus {
  id: number;
  connected: boolean;
  error: boolean;
  done: boolean;
  bytesReadable: number;
  bytesWritable: number;
  triggered: number;
}

const live = new Set<Native>();

export function tcpStatus(): TcpStatus[] {
  return [...live].map((n) => ({ id: n.skt, connected: n.connected, error: n.error, done: n.done, bytesReadable: n.bytesReadable, bytesWritable: n.bytesWritable, triggered: n.triggered }));
}

function callbackOf<T>(options: TcpOptions, name: "onReadable" | "onWritable" | "onError"): T | null {
  const value = options[name];
  return typeof value === "function" ? (value as T) : null;
}

/** inet_aton for the dotted-quad form (the only one the Moddable host passes). */
function isDottedQuad(address: string): boolean {
  const parts = address.split(".");
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** xsmcGetBufferReadable / xsmcGetBufferWritable: the bytes of an ArrayBuffer, a typed array or a DataView. */
function bytesOf(value: unknown): Uint8Array {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError("not a buffer");
}

export default class TCP {
  #native: Native | null;
  target?: unknown;

  constructor(options?: TcpOptions) {
    const native: Native = {
      skt: -1,
      done: false,
      error: false,
      connected: false,
      format: "buffer",
      triggerable: 0,
      triggered: 0,
      bytesWritable: 0,
      bytesReadable: 0,
      readPosition: 0,
      readBuf: new Uint8Array(BUFFER_SIZE),
      task: -1,
      onReadable: null,
      onWritable: null,
      onError: null,
      address: "",
      port: 0,
    };
    this.#native = native;
    if (options === undefined) return;

    const format = options.format ?? "buffer";
    if (format !== "buffer" && format !== "number") throw new RangeError("unimplemented");
    native.format = format;
    const onReadable = callbackOf<(count: number) => void>(options, "onReadable");
    const onWritable = callbackOf<(count: number) => void>(options, "onWritable");
    const onError = callbackOf<() => void>(options, "onError");
    let triggerable = 0;
    if (onReadable !== null) triggerable |= TRIGGER_READABLE;
    if (onWritable !== null) triggerable |= TRIGGER_WRITABLE;
    if (onError !== null) triggerable |= TRIGGER_ERROR;
    let triggered = 0;

    if ("from" in options) {
      const fromObject = options.from;
      const from = fromObject instanceof TCP ? fromObject.#native : null;
      if (from === null || from.skt < 0) throw new Error("invalid from");
      triggered = from.triggered;
      this.stopTask(from);
      native.skt = from.skt;
      native.port = from.port;
      native.address = from.address;
      // As lin/tcp.c: `connected` is not carried over; the next poll selects for writing and sets it.
      native.bytesWritable = from.bytesWritable;
      native.bytesReadable = from.bytesReadable;
      native.readPosition = from.readPosition;
      native.readBuf.set(from.readBuf);
      native.error = from.error;
      from.skt = -1;
      from.triggered = 0;
      (fromObject as TCP).closeWithoutSocket();
      if (native.bytesWritable) triggered |= TRIGGER_WRITABLE;
      if (native.bytesReadable) triggered |= TRIGGER_READABLE;
      if (native.error) triggered |= TRIGGER_ERROR;
      this.startTask(native);
    } else {
      const address = String(options.address);
      if (!isDottedQuad(address)) throw new Error("invalid address");
      const port = Math.trunc(Number(options.port));
      if (!(port >= 0 && port <= 65535)) throw new RangeError("invalid port");
      native.skt = nextSocket++;
      native.address = address;
      native.port = port;
      const tail = new Uint8Array(3 + address.length);
      tail[0] = port >>> 8;
      tail[1] = port & 0xff;
      tail[2] = options.nodelay === true ? 1 : 0;
      tail.set(asciiBytes(address), 3);
      // socket(), O_NONBLOCK, connect(): EINPROGRESS on a real network, so the first poll tells.
      issue(message(OP_TCP_CONNECT, native.skt, tail));
      this.startTask(native);
    }

    if ("target" in options) this.target = options.target;
    native.triggerable = triggerable;
    native.onReadable = onReadable;
    native.onWritable = onWritable;
    native.onError = onError;
    live.add(native);
    this.trigger(native, triggered);
  }

  get remoteAddress(): string | undefined {
    return this.#native?.address;
  }

  get remotePort(): number | undefined {
    return this.#native?.port;
  }

  get format(): Format {
    return this.open().format;
  }

  set format(value: Format) {
    if (value !== "buffer" && value !== "number") throw new RangeError("unimplemented");
    this.open().format = value;
  }

  read(arg?: unknown): number | ArrayBuffer | undefined {
    const native = this.open();
    if (native.bytesReadable === 0) return undefined;
    let requested: number;
    let out: Uint8Array;
    let result: number | ArrayBuffer | undefined;
    if (native.format === "buffer") {
      if (arguments.length === 0) {
        requested = native.bytesReadable;
        result = new ArrayBuffer(requested);
        out = new Uint8Array(result);
      } else if (typeof arg === "object" && arg !== null) {
        out = bytesOf(arg);
        requested = out.length;
        result = requested;
      } else {
        requested = Math.trunc(Number(arg));
        out = new Uint8Array(0);
      }
      if (!(requested > 0 && requested <= native.bytesReadable)) throw new Error("invalid");
      if (result === undefined) {
        result = new ArrayBuffer(requested);
        out = new Uint8Array(result);
      }
    } else {
      requested = 1;
      out = new Uint8Array(1);
    }
    out.set(native.readBuf.subarray(native.readPosition, native.readPosition + requested));
    native.readPosition += requested;
    native.bytesReadable -= requested;
    if (native.error && native.bytesReadable === 0) this.trigger(native, TRIGGER_ERROR);
    return native.format === "number" ? out[0] : result;
  }

  write(value: unknown): number | undefined {
    const native = this.open();
    const bytes = native.format === "buffer" ? bytesOf(value) : Uint8Array.of(Number(value) & 0xff);
    if (bytes.length > native.bytesWritable) throw new Error("would block");
    native.bytesWritable -= bytes.length;
    const answer = issue(message(OP_TCP_WRITE, native.skt, bytes));
    if (answer[0] !== WRITE_OK) {
      const why = text(answer, 1);
      if (answer[0] !== WRITE_FAILED) tcpEvents.sigpipes.push(`socket ${native.skt}: write of ${bytes.length} bytes: ${why}`);
      // xsTrace("write failed"), then onError is due; the write returns nothing.
      this.trigger(native, TRIGGER_ERROR);
      return undefined;
    }
    return native.bytesWritable;
  }

  close(): void {
    const native = this.#native;
    if (native === null) return;
    this.#native = null;
    this.finish(native);
    if (native.skt >= 0) issue(message(OP_TCP_CLOSE, native.skt));
  }

  // ---- the native side ----

  /** xsmcGetHostDataValidate: a closed socket has no host data, and reading or writing it throws. */
  private open(): Native {
    const native = this.#native;
    if (native === null) throw new TypeError("TCP: closed");
    return native;
  }

  /** doClose for the instance a `from` took the socket from: its socket lives on in the new instance. */
  private closeWithoutSocket(): void {
    const native = this.#native;
    if (native === null) return;
    this.#native = null;
    this.finish(native);
  }

  private finish(native: Native): void {
    native.done = true;
    native.triggerable = 0;
    native.triggered = 0;
    this.stopTask(native);
    live.delete(native);
  }

  private startTask(native: Native): void {
    // modTimerAdd(kTaskInterval, kTaskInterval, tcpTask): a repeating task, re-armed after each run.
    const run = (): void => {
      native.task = -1;
      if (native.done) return;
      native.task = startTimer(emulation.tcpPollMs, run);
      this.poll(native);
    };
    native.task = startTimer(emulation.tcpPollMs, run);
  }

  private stopTask(native: Native): void {
    if (native.task >= 0) cancelTimer(native.task);
    native.task = -1;
  }

  private trigger(native: Native, trigger: number): void {
    if (trigger & TRIGGER_ERROR) native.error = true;
    native.triggered |= trigger & native.triggerable;
  }

  /** tcpTask. */
  private poll(native: Native): void {
    if (native.skt < 0 || native.done || native.error) return;
    const wantWrite = !native.connected || native.bytesWritable !== BUFFER_SIZE;
    const space = native.bytesReadable < BUFFER_SIZE ? BUFFER_SIZE - native.bytesReadable : 0;
    if (wantWrite || space > 0) {
      const request = message(OP_TCP_POLL, native.skt, new Uint8Array(5));
      request[5] = wantWrite ? 1 : 0;
      request[6] = space >>> 24;
      request[7] = (space >>> 16) & 0xff;
      request[8] = (space >>> 8) & 0xff;
      request[9] = space & 0xff;
      const answer = issue(request);
      if (answer[0] & POLL_WRITABLE) {
        native.connected = true;
        if (native.bytesWritable !== BUFFER_SIZE) {
          native.bytesWritable = BUFFER_SIZE;
          this.trigger(native, TRIGGER_WRITABLE);
        }
      }
      if (answer[0] & POLL_READABLE && native.bytesReadable < BUFFER_SIZE) {
        if (native.readPosition) {
          if (native.bytesReadable) native.readBuf.copyWithin(0, native.readPosition, native.readPosition + native.bytesReadable);
          native.readPosition = 0;
        }
        if (answer[1] === READ_DATA) {
          const n = answer.length - 2;
          native.readBuf.set(answer.subarray(2), native.bytesReadable);
          native.bytesReadable += n;
          this.trigger(native, TRIGGER_READABLE);
        } else {
          // read(2) returned 0 (READ_EOF) or -1: the connection is over either way.
          native.error = true;
          if (native.bytesReadable === 0) this.trigger(native, TRIGGER_ERROR);
          else tcpEvents.unreportedErrors++;
        }
      }
    }
    if (native.triggered) this.reportTrigger(native);
  }

  /** reportTrigger: the due callbacks, in lin/tcp.c's order, with the socket as `this`. */
  private reportTrigger(native: Native): void {
    const triggered = native.triggered;
    native.triggered = 0;
    if (triggered & TRIGGER_WRITABLE && native.bytesWritable && !native.error) native.onWritable?.call(this, native.bytesWritable);
    if (triggered & TRIGGER_READABLE && native.bytesReadable) native.onReadable?.call(this, native.bytesReadable);
    if (triggered & TRIGGER_ERROR) native.onError?.call(this);
  }
}

function text(bytes: Uint8Array, start: number): string {
  let s = "";
  for (let i = start; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}
