// An ECMA-419 TCP socket (embedded:io/socket/tcp) under a transport, to a
// host name or an IPv4 address: the name is resolved first with Net.resolve
// (lwIP's DNS on ESP32, the system resolver in the simulator), since the
// socket takes addresses only.
//
// What ECMA-419 TCP does, and what the transports above rely on:
//  - onWritable(n) first means "connected"; later, "n bytes may be written";
//  - onReadable(n): n bytes are waiting in total (not n more);
//  - write(bytes) throws when bytes > what may be written, else it returns
//    what may be written afterwards;
//  - onError means the connection is over, a clean FIN included, and comes
//    only after every received byte was read. Before the first onWritable it
//    is a failure to connect.
//
// RAM: nothing here makes a function per connection. On ESP32 the functions
// and prototypes of a preloaded module live in flash, while every closure
// made at run time costs RAM (about 11 slots of 16 B). So the socket's
// callbacks are the module functions below: ECMA-419 calls them with `this`
// the socket and keeps the constructor's `target` option as the socket's
// `target` property (Moddable: builtinInitializeTarget, then
// xsCallFunction(callback, tcp->obj) in lin/tcp.c and lwip/tcp.c), which is
// the transport. Work for a later turn (later()) and the resolver's answers
// go through module-level queues, not closures.

import TCP from "embedded:io/socket/tcp";
import Net from "net";
import Timer from "timer";
import type { TransportFailure, TransportHandlers } from "websock/src/host";
import { isIPv4 } from "websock/src/hostname";

/**
 * The socket as this host uses it. The typings (npm and SDK alike) declare
 * write() as returning void; Moddable's lwIP and Linux sockets return what
 * may be written afterwards, which is what the transports need.
 */
export interface Socket419 {
  read(buffer: Uint8Array): unknown;
  write(bytes: Uint8Array | ArrayBuffer): number;
  close(): void;
}

// SocketTransport's flags, bits of `bits` (one slot for all of a transport's
// booleans); a concrete transport's own flags take the bits from SOCKET_OWN_FLAGS up.
/** Released (closed, failed, ended) or detached: the socket's events and later work are ignored. */
export const SOCKET_CANCELLED = 1;
/** The first bit a concrete transport's own flags may use. */
export const SOCKET_OWN_FLAGS = 2;

/** A socket of ours as its callbacks see it: `target` is the transport (ECMA-419's target option). */
interface TargetedSocket {
  readonly target: SocketTransport;
}

// ---- what later() runs: (what, data) of SocketTransport.runLater ----

/** Create the socket: data is the IPv4 address, or the stream to take over (`from`). */
const LATER_CONNECT = 0;
/** Fail, unless released by then: data is the TransportFailure. */
export const LATER_FAIL = 1;
/** Already released: report data (a TransportFailure) to onError. */
export const LATER_REPORT_ERROR = 2;
/** Already released: report onEnd. */
export const LATER_END = 3;

/** What later() can run: owner.runLater(what, data). */
export interface Deferred {
  runLater(what: number, data: unknown): void;
}

/** Owner, what, data, ...: one timer runs them all (created on first use, STYLE rule 6). */
let laterQueue: unknown[] | null = null;

function runLaterQueue(): void {
  const queue = laterQueue!;
  laterQueue = null;
  let i = 0;
  try {
    for (; i < queue.length; i += 3) (queue[i] as Deferred).runLater(queue[i + 1] as number, queue[i + 2]);
  } finally {
    // One of them threw (the exception goes on, as from a timer of its own): the ones after it still run.
    for (i += 3; i < queue.length; i += 3) later(queue[i] as Deferred, queue[i + 1] as number, queue[i + 2]);
  }
}

/** Runs owner.runLater(what, data) on a later turn (never inside the caller's call). */
export function later(owner: Deferred, what: number, data: unknown): void {
  if (laterQueue === null) {
    laterQueue = [];
    Timer.set(runLaterQueue, 0);
  }
  laterQueue.push(owner, what, data);
}

// ---- the resolver ----

/** Transports waiting for Net.resolve, in the order asked (created on first use). */
let resolving: SocketTransport[] | null = null;

/** Net.resolve's callback: it gets the name as asked (lin/ and esp/modResolve.c copy it), so the name says whose answer it is. */
function resolved(name: string, address?: string): void {
  const waiting = resolving!;
  let i = 0;
  while (i < waiting.length && waiting[i].hostname !== name) i++;
  if (i === waiting.length) i = 0;
  const transport = waiting[i];
  waiting.splice(i, 1);
  if (transport === undefined || (transport.bits & SOCKET_CANCELLED) !== 0) return;
  if (typeof address !== "string" || !isIPv4(address)) transport.fail({ kind: "dns", message: `${transport.hostname} could not be resolved` });
  else transport.connectTo(address);
}

// ---- the socket's callbacks: `this` is the socket, `this.target` the transport ----

function socketWritable(this: TargetedSocket, count: number): void {
  const transport = this.target;
  if (!(transport.bits & SOCKET_CANCELLED)) transport.socketWritable(count);
}

function socketReadable(this: TargetedSocket, count: number): void {
  const transport = this.target;
  if (!(transport.bits & SOCKET_CANCELLED)) transport.socketReadable(count);
}

function socketError(this: TargetedSocket): void {
  const transport = this.target;
  if (!(transport.bits & SOCKET_CANCELLED)) transport.socketEnded();
}

/**
 * A Transport over an ECMA-419 TCP socket: it resolves `hostname` and
 * connects, or (with `from`) takes over a socket the application already
 * has: ECMA-419's `from` moves an accepted or connected socket, with what it
 * has buffered, into a new instance with our callbacks. The socket's events
 * come to the socket*() methods, on later turns only, and never once the
 * transport is released (cancelled).
 */
export abstract class SocketTransport implements Deferred {
  readonly handlers: TransportHandlers;
  /** The name or address connected to; "" for a stream taken over (websock_attach_*). */
  readonly hostname: string;
  readonly port: number;
  /** The socket while it is ours (null before it is made, and once released or detached). */
  socket: Socket419 | null = null;
  /** SOCKET_CANCELLED, and the concrete class's own flags, as bits. */
  bits = 0;

  constructor(hostname: string, port: number, handlers: TransportHandlers, from?: object) {
    this.handlers = handlers;
    this.hostname = hostname;
    this.port = port;
    if (from !== undefined) {
      later(this, LATER_CONNECT, from);
    } else if (hostname.includes(":")) {
      // Moddable's ECMA-419 TCP speaks IPv4 only (sockaddr_in on Linux, an IPv4 address string on lwIP).
      later(this, LATER_FAIL, { kind: "connect", message: `${hostname}: IPv6 addresses are not supported by Moddable's TCP socket` });
    } else if (isIPv4(hostname)) {
      later(this, LATER_CONNECT, hostname);
    } else {
      if (resolving === null) resolving = [];
      resolving.push(this);
      try {
        Net.resolve(hostname, resolved);
      } catch (e) {
        // lwIP's DNS queue is small: when full, resolve throws.
        resolving.pop();
        later(this, LATER_FAIL, { kind: "dns", message: `${hostname} could not be resolved: ${String(e)}` });
      }
    }
  }

  /** Where this transport goes, for messages. */
  where(): string {
    return this.hostname === "" ? "the attached stream" : `${this.hostname}:${this.port}`;
  }

  // ---- what subclasses do with the socket's events ----

  /** onWritable(count): the first one says the socket is connected. */
  abstract socketWritable(count: number): void;
  /** onReadable(count): count bytes wait in the socket. */
  abstract socketReadable(count: number): void;
  /** onError: before the first onWritable a failure to connect, after it the end of the stream. */
  abstract socketEnded(): void;

  /** Creates the socket (to `address`, or taking over `from`); a failure is reported on a later turn. */
  connectTo(address: string, from?: object): void {
    try {
      // The options object is dropped once the socket is made; the callbacks are module functions.
      const options =
        from !== undefined
          ? { from: from as TCP, nodelay: true, target: this, onWritable: socketWritable, onReadable: socketReadable, onError: socketError }
          : { address, port: this.port, nodelay: true, target: this, onWritable: socketWritable, onReadable: socketReadable, onError: socketError };
      this.socket = new TCP(options as unknown as ConstructorParameters<typeof TCP>[0]) as unknown as Socket419;
    } catch (e) {
      const message = from !== undefined ? `the stream could not be taken over: ${String(e)}` : `${this.hostname}:${this.port}: the socket could not be created: ${String(e)}`;
      later(this, LATER_FAIL, { kind: "connect", message });
    }
  }

  /** What later(this, what, data) asked for. */
  runLater(what: number, data: unknown): void {
    switch (what) {
      case LATER_CONNECT:
        if (this.bits & SOCKET_CANCELLED) return;
        if (typeof data === "string") this.connectTo(data);
        else this.connectTo("", data as object);
        return;
      case LATER_FAIL:
        if (!(this.bits & SOCKET_CANCELLED)) this.fail(data as TransportFailure);
        return;
      case LATER_REPORT_ERROR:
        this.handlers.onError(data as TransportFailure);
        return;
      case LATER_END:
        this.handlers.onEnd();
        return;
    }
  }

  // ---- endings ----

  /** Stops using the socket without closing it and gives it back (websock_detach). */
  detachSocket(): Socket419 | null {
    this.bits |= SOCKET_CANCELLED;
    const s = this.socket;
    this.socket = null;
    return s;
  }

  /** Closes the socket (ECMA-419 close(): what was written is sent, then FIN) and ignores it from now on. */
  release(): void {
    if (this.bits & SOCKET_CANCELLED) return;
    this.bits |= SOCKET_CANCELLED;
    const s = this.socket;
    this.socket = null;
    try {
      s?.close();
    } catch {
      // closing a socket that already failed: nothing left to release
    }
  }

  /** Releases the transport and reports `failure` (once: nothing after a release). */
  fail(failure: TransportFailure): void {
    if (this.bits & SOCKET_CANCELLED) return;
    this.release();
    this.handlers.onError(failure);
  }
}
