// ws:// on Moddable: the Transport over an ECMA-419 TCP socket, reading
// straight into the core's rx buffer (no copy, no queue: what the core does
// not read stays in the socket, which then stops reading from the network).
// The socket, its callbacks and the deferred work are SocketTransport's
// (socket.ts): a connection costs this object and the socket, no closures.

import type { Transport, TransportHandlers } from "websock/src/host";
import { LATER_REPORT_ERROR, SOCKET_CANCELLED, SOCKET_OWN_FLAGS, SocketTransport, later } from "websock/hosts/moddable/socket";
import { NO_VIEWS, viewOf, type ViewHolder } from "websock/src/view-cache";
import { defineColdFields } from "websock/src/cold-fields";

/** The socket connected (its first writable came). */
const CONNECTED = SOCKET_OWN_FLAGS;
/** A write came up short: onWritable is owed. */
const BLOCKED = SOCKET_OWN_FLAGS << 1;

export class TcpTransport extends SocketTransport implements Transport, ViewHolder {
  /** Bytes waiting in the socket. */
  private readable = 0;
  /** Bytes the socket takes now. */
  private writable = 0;
  /**
   * ECMA-419 read() and write() take a whole buffer: a part of the rx buffer
   * (or of what the core writes) goes as a view, kept for the next time the
   * same part comes (a view is 4 slots of garbage each time otherwise);
   * cold fields (view-cache.ts), so a view costs a slot only once kept.
   */
  declare viewA: Uint8Array | null;
  declare viewB: Uint8Array | null;
  declare viewC: Uint8Array | null;

  /** Connects to hostname:port, or (with `from`) takes over an ECMA-419 socket the application has (websock_attach_*: hostname ""). */
  constructor(hostname: string, port: number, handlers: TransportHandlers, from?: object) {
    super(hostname, port, handlers, from);
  }

  /**
   * websock_detach: gives the socket back without closing it. The application
   * takes it over with `new TCP({ from: stream, ...its callbacks })`. An
   * ECMA-419 socket cannot take bytes back: `leftover` (what followed the
   * peer's close frame in the same read) cannot be returned to it, and the
   * README says so. Bytes not yet read stay in the socket.
   */
  detach(_leftover: Uint8Array): unknown {
    return this.detachSocket();
  }

  read(into: Uint8Array, start: number, end: number): number {
    const socket = this.socket;
    const n = Math.min(end - start, this.readable);
    if (n <= 0 || socket === null || (this.bits & SOCKET_CANCELLED) !== 0) return 0;
    try {
      socket.read(viewOf(this, into, start, n));
    } catch (e) {
      this.failLater(`${this.where()}: read failed: ${String(e)}`);
      return 0;
    }
    this.readable -= n;
    return n;
  }

  write(bytes: Uint8Array): number {
    const socket = this.socket;
    if ((this.bits & SOCKET_CANCELLED) !== 0 || socket === null) return bytes.length;
    const n = Math.min(bytes.length, this.writable);
    if (n > 0) {
      let left: unknown;
      try {
        // The socket copies (lwIP's TCP_WRITE_FLAG_COPY; write(2) in the simulator).
        left = socket.write(viewOf(this, bytes, 0, n));
      } catch (e) {
        this.failLater(`${this.where()}: write failed: ${String(e)}`);
        return bytes.length;
      }
      // The simulator's write() answers undefined when write(2) failed (a reset): the stream is gone,
      // and its onError may never come (lin/tcp.c), so this is the failure.
      if (typeof left !== "number") {
        this.writable = 0;
        this.failLater(`${this.where()}: the connection failed while writing (reset by the peer)`);
        return bytes.length;
      }
      this.writable = left;
    }
    if (n < bytes.length) this.bits |= BLOCKED;
    return n;
  }

  close(): void {
    // ECMA-419 close() sends what was written, then FIN (lwIP tcp_close; close(2) in the simulator).
    this.release();
  }

  destroy(): void {
    this.release();
  }

  // ---- the socket's events (SocketTransport calls them only while not released) ----

  socketWritable(count: number): void {
    this.writable = count;
    if (!(this.bits & CONNECTED)) {
      this.bits |= CONNECTED;
      this.handlers.onConnect();
    } else if (this.bits & BLOCKED) {
      this.bits &= ~BLOCKED;
      this.handlers.onWritable();
    }
  }

  socketReadable(count: number): void {
    this.readable = count;
    this.handlers.onReadable();
  }

  /** The socket's onError: before onWritable a failure to connect, after it the end of the stream. */
  socketEnded(): void {
    if (!(this.bits & CONNECTED)) {
      this.fail({ kind: "connect", message: `${this.where()}: the connection was refused or could not be established` });
      return;
    }
    this.release();
    this.handlers.onEnd();
  }

  /** A failure found inside read() or write(): reported on a later turn, never inside the core's call. */
  private failLater(message: string): void {
    this.release();
    later(this, LATER_REPORT_ERROR, { kind: (this.bits & CONNECTED) !== 0 ? "io" : "connect", message });
  }
}
// The kept views (view-cache.ts) are written only once a view is kept.
defineColdFields(TcpTransport.prototype, NO_VIEWS);
