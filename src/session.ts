// The driver of one connection: it moves bytes between the host's transport
// and the protocol object (Connection), keeps the handle's one timer due at
// the earliest deadline, and settles the application's Promises when the
// core's events say so. It decides nothing about the protocol.
//
// A Session is the handle the application holds. Everything here is a
// method on the class (in a preloaded module, on ESP32 its code lives in
// flash): the transport calls the Session itself back (it is the
// TransportHandlers), and the few functions the platform needs (the timer's
// callback, the Promise executors) are made once per connection, never per
// message.

import {
  Connection,
  DROP_STREAM,
  END_STREAM,
  EVENT_CLOSED,
  EVENT_INPUT,
  EVENT_OPENED,
  EVENT_SENT,
  NOTHING_READY,
  STATE_CLOSED,
  type Failure,
} from "./connection.js";
import { NO_ERROR, setLastError } from "./registry.js";
import { ERR, TRANSPORT_ERRORS, WEBSOCK_OK, type ErrorRow } from "./errors.js";
import type { ConnectTarget, Host, Transport, TransportFailure } from "./host.js";
import { MESSAGE_RAW, OutgoingMessage, SEND_PENDING } from "./outgoing.js";
import { OPCODE_BINARY } from "./opcodes.js";
import { TUNNEL_FAILED, TUNNEL_OPEN, type ProxyTunnel } from "./proxy.js";
import type { Reconnector } from "./reconnector.js";
import type { websock_callback_t, websock_error_t, websock_handle_t, websock_msg_hdr_t } from "./types.js";
import { defineColdFields } from "./cold-fields.js";
import { NO_VIEWS, clearViews, viewOf, type ViewHolder } from "./view-cache.js";

/** The longest a host timer is set for (2^31-1 ms, Node's limit); longer waits re-arm when it fires. */
const MAX_TIMER_MS = 0x7fffffff;

export function errorFrom(failure: Failure): websock_error_t {
  const { error, detail } = failure;
  const e: websock_error_t = {
    code: error.code,
    name: error.name,
    message: detail && detail !== error.message ? `${error.message}: ${detail}` : error.message,
  };
  if (failure.httpStatus !== undefined) e.http_status = failure.httpStatus;
  if (failure.closeCode !== undefined && failure.closeCode !== 0) e.close_code = failure.closeCode;
  if (failure.closeReason !== undefined) e.close_reason = failure.closeReason;
  if (failure.tlsReason !== undefined) e.tls_reason = failure.tlsReason;
  if (failure.wwwAuthenticate !== undefined) e.www_authenticate = failure.wwwAuthenticate;
  return e;
}

/** The row of a WEBSOCK_ERR_* code. */
function errorOf(code: number): ErrorRow {
  for (const key in ERR) {
    const row = ERR[key as keyof typeof ERR];
    if (row.code === code) return row;
  }
  return ERR.INTERNAL;
}

export function clearHeader(hdr: websock_msg_hdr_t): void {
  hdr.fin = false;
  hdr.opcode = -1;
  hdr.payload_len = 0;
  hdr.offset = 0;
  hdr.bytesleft = 0;
}

const EMPTY = new Uint8Array(0);
/** endWhileReading for an orderly end of stream. */
const EOF = 1;

/** Promises already settled with a result, made on first use (not while the module loads: it may be preloaded). */
let settledOk: Promise<number> | null = null;

export function settled(code: number): Promise<number> {
  if (code === WEBSOCK_OK) return (settledOk ??= Promise.resolve(WEBSOCK_OK));
  return Promise.resolve(code);
}

// The Promise executors: functions of this module (in flash when preloaded),
// not closures made per call or per connection. An executor runs inside the
// Promise constructor, so the one it serves is handed over in a binding.
let awaitedSend: OutgoingMessage | null = null;
let awaitedRecv: Session | null = null;

function sendExecutor(resolve: (code: number) => void): void {
  awaitedSend!.settle = resolve;
}

function recvExecutor(resolve: (n: number) => void): void {
  awaitedRecv!.recvSettle = resolve;
}

/** A Promise that `m` settles once it is out (or failed). */
function waitForSend(m: OutgoingMessage): Promise<number> {
  awaitedSend = m;
  const done = new Promise<number>(sendExecutor);
  awaitedSend = null;
  return done;
}

/** A Promise that the session's waiting websock_recv settles. */
function waitForRecv(s: Session): Promise<number> {
  awaitedRecv = s;
  const done = new Promise<number>(recvExecutor);
  awaitedRecv = null;
  return done;
}

// The flags of a Session: bits of its one `bits` field (on XS one slot for all of them).
/** The stream is up (onConnect came). */
const CONNECTED = 1;
/** The stream was ended or dropped (by us, or it failed): nothing more is written. */
const TRANSPORT_ENDED = 2;
/** The handle is closed: every call on it refuses. */
const RELEASED = 4;
/** The transport took less than it was given: writing waits for onWritable. */
const WRITE_BLOCKED = 8;
/** Inside readIn: a transport callback reporting the end waits for it (endWhileReading). */
const READING = 16;
/** websock_detach: the stream is handed back after the close handshake instead of being ended. */
const DETACHING = 32;
/** Re-entrancy: a callback or a Promise job may call back in while service() runs; AGAIN asks it for one more pass. */
const SERVICING = 64;
const AGAIN = 128;
/** The callback model is inside the callback. */
const IN_CALLBACK = 256;
/** The timer was set for a websock_recv's deadline (armTimer keeps it between calls). */
const TIMER_FOR_RECV = 512;

export class Session implements ViewHolder {
  /** The flags above the class, as bits. */
  bits = 0;
  /** The handle is closed: every call on it refuses. */
  get released(): boolean {
    return (this.bits & RELEASED) !== 0;
  }
  /** The protocol object; a reconnect replaces it with its successor (on the same buffers). */
  conn: Connection;
  readonly host: Host;
  transport: Transport | null = null;
  private declare endWhileReading: TransportFailure | typeof EOF | null;
  declare lastError: websock_error_t;
  /** websock_send's message type (WS_TEXT / WS_BINARY). */
  declare defaultOpcode: number;
  /** An HTTP proxy's CONNECT while it is under way (proxy.ts): the transport's events go to it until the tunnel is up. */
  declare tunnel: ProxyTunnel | null;
  /** websock_open: the URL connected to after redirects, and how many were followed (websock_get_info). */
  declare url: string;
  declare redirects: number;

  // The one timer, and when it fires (cold: a connection with no deadline never arms it).
  private declare timer: unknown;
  private declare timerAt: number;

  // The opening.
  private declare openSettle: ((handle: Session | null) => void) | null;

  // The waiting websock_recv, if any.
  declare recvSettle: ((n: number) => void) | null;
  private declare recvHdr: websock_msg_hdr_t | null;
  private declare recvBuf: Uint8Array | null;
  private declare recvLen: number;
  /** When it gives up (host clock; Infinity: it waits forever, or none waits). */
  private declare recvDeadline: number;

  /** Views of the rx and tx buffers' parts handed to the transport and the callback, kept for reuse (view-cache.ts; cold: a slot once kept). */
  declare viewA: Uint8Array | null;
  declare viewB: Uint8Array | null;
  declare viewC: Uint8Array | null;

  // Sends: a record to reuse, made by the first send and kept from then on (cold: a
  // connection that never sends has none; null also while the kept one is in use).
  private declare spare: OutgoingMessage | null;

  // The callback model.
  declare callback: websock_callback_t | null;
  /** The header the callback model fills in, made when a callback is first set. */
  private declare callbackHdr: websock_msg_hdr_t | null;

  private declare closeWaiters: Array<() => void> | null;

  /** websock_open with reconnect or on_open (reconnector.ts); null otherwise. */
  declare reconnector: Reconnector | null;

  constructor(conn: Connection, host: Host) {
    this.conn = conn;
    this.host = host;
  }

  setError(e: websock_error_t): void {
    this.lastError = e;
    setLastError(e);
  }

  fail(row: ErrorRow, detail: string): number {
    this.setError(errorFrom({ error: row, detail }));
    return row.code;
  }

  // ---- opening ----

  /** Starts the stream with `makeTransport`; resolves with this session once open, or null. */
  open(makeTransport: (handlers: Session) => Transport | string): Promise<Session | null> {
    const opened = new Promise<Session | null>((resolve) => {
      this.openSettle = resolve;
    });
    try {
      const made = makeTransport(this);
      if (typeof made === "string") this.conn.abort(ERR.INVALID_ARG, made);
      else this.transport = made;
    } catch (e) {
      this.conn.transportFailed({ error: ERR.CONNECT, detail: String(e) });
    }
    this.service();
    return opened;
  }

  // ---- the transport's callbacks (TransportHandlers) ----

  onConnect(): void {
    if (this.tunnel !== null) {
      this.tunnelStep(this.tunnel.connect(this.transport!));
      return;
    }
    this.bits |= CONNECTED;
    this.conn.transportConnected();
    this.service();
  }

  onReadable(): void {
    if (this.tunnel !== null) {
      this.tunnelStep(this.tunnel.read(this.transport!));
      return;
    }
    try {
      this.readIn();
    } catch (e) {
      this.internalError(e);
    }
    this.service();
  }

  onWritable(): void {
    if (this.tunnel !== null) {
      this.tunnelStep(this.tunnel.write(this.transport!));
      return;
    }
    this.bits &= ~WRITE_BLOCKED;
    this.service();
  }

  onEnd(): void {
    if (this.tunnel !== null) {
      this.tunnelStep(this.tunnel.ended());
      return;
    }
    // From inside our own read() (a host may report the end as the last chunk is taken): the
    // bytes that read copied are not counted yet, so the end waits until readIn has counted them.
    if (this.bits & READING) {
      this.endWhileReading ??= EOF;
      return;
    }
    try {
      this.readIn();
      this.conn.receiveEof();
    } catch (e) {
      this.internalError(e);
    }
    this.service();
  }

  onError(f: TransportFailure): void {
    this.bits |= TRANSPORT_ENDED;
    if (this.tunnel !== null) {
      // Talking to the proxy: what it said before failing is not the server's, and not read.
      const described = this.tunnel.describe(f);
      this.tunnel = null;
      this.conn.transportFailed({ error: TRANSPORT_ERRORS[described.kind] ?? ERR.IO, detail: described.message, tlsReason: described.tlsReason });
      this.service();
      return;
    }
    if (this.bits & READING) {
      this.endWhileReading = f;
      return;
    }
    try {
      // What the transport still holds came before the failure: it is delivered first.
      this.readIn();
      this.conn.transportFailed({ error: TRANSPORT_ERRORS[f.kind] ?? ERR.IO, detail: f.message, tlsReason: f.tlsReason });
    } catch (e) {
      this.internalError(e);
    }
    this.service();
  }

  /**
   * Acts on a step of the proxy's tunnel: a failure fails the open; once it
   * is up, ws:// goes on as if the transport had just connected, and wss://
   * starts TLS over it (Host.startTls), whose onConnect goes on from there.
   */
  private tunnelStep(step: number): void {
    const tunnel = this.tunnel!;
    try {
      if (step === TUNNEL_FAILED) {
        this.tunnel = null;
        this.conn.transportFailed(tunnel.failure!);
      } else if (step === TUNNEL_OPEN) {
        this.tunnel = null;
        if (tunnel.tls === null) {
          this.onConnect();
          return;
        }
        const made = this.host.startTls === undefined ? "this host cannot start TLS over a proxy's tunnel" : this.host.startTls(this.transport!, tunnel.tls, this);
        if (typeof made === "string") this.conn.abort(ERR.UNSUPPORTED, made);
        else this.transport = made;
      } else this.conn.noteOpenPhase(`waiting for the proxy ${tunnel.proxy.label} to answer CONNECT`);
    } catch (e) {
      this.internalError(e);
    }
    this.service();
  }

  // ---- the application's calls ----

  /** Queues `m` (from spareMessage()); resolves once the transport took all of it, or with the code it failed with. */
  send(m: OutgoingMessage): Promise<number> {
    const refusal = this.conn.send(m);
    if (refusal !== null && refusal.error === ERR.NOT_OPEN && this.reconnector?.down === true && (m.bits & MESSAGE_RAW) === 0) {
      // Between connections: it goes out on the next one, after on_open.
      this.reconnector.hold(m);
      return waitForSend(m);
    }
    if (refusal !== null) {
      this.recycle(m);
      return settled(this.fail(refusal.error, refusal.detail));
    }
    if (this.bits & SERVICING) {
      // From a callback, inside service(): write now, as service() would, so that a message
      // that goes out at once settles at once (no Promise made: 19 slots on XS), and let
      // the running service() handle what the write caused.
      this.pump();
      this.bits |= AGAIN;
    } else {
      this.service();
    }
    if (m.status !== SEND_PENDING) return settled(m.status);
    return waitForSend(m);
  }

  /** A message record to fill in for send(): the session's own when it is free, so a send that goes out at once allocates none. */
  spareMessage(): OutgoingMessage {
    // From a callback, the message sent before this one may be finished but not yet handed
    // back (service() settles sends between callbacks, not during them): settle it now.
    if (this.spare === null) this.settleSends();
    const m = this.spare;
    if (m === null) return new OutgoingMessage();
    this.spare = null;
    return m;
  }

  private recycle(m: OutgoingMessage): void {
    m.release();
    if (m.settle !== null) m.settle = null;
    m.next = null;
    if (this.spare === null) this.spare = m;
  }

  /** A ping or a pong with payload bytes[0, length). */
  sendControl(pong: boolean, bytes: Uint8Array): number {
    const refusal = this.conn.sendControl(pong, bytes, 0, bytes.length);
    if (refusal !== null) return this.fail(refusal.error, refusal.detail);
    this.service();
    return WEBSOCK_OK;
  }

  /**
   * websock_recv: the next piece into buf[0, len), or a wait of at most
   * `timeout` ms (-1: forever) for one. Only one may wait at a time.
   */
  recv(hdr: websock_msg_hdr_t, buf: Uint8Array, len: number, timeout: number): Promise<number> {
    if (this.recvSettle !== null) return settled(this.fail(ERR.BUSY, ERR.BUSY.message));
    // The application asks for more: what follows the frame it read last is parsed now.
    this.conn.advance();
    const n = this.take(hdr, buf, len);
    if (n !== NOTHING_READY) {
      this.service();
      return settled(n);
    }
    if (timeout === 0) {
      clearHeader(hdr);
      this.service();
      return settled(0);
    }
    this.recvHdr = hdr;
    this.recvBuf = buf;
    this.recvLen = len;
    this.recvDeadline = timeout < 0 ? Infinity : this.host.now() + timeout;
    const waiting = waitForRecv(this);
    this.service();
    // The application waits for an answer: what it sent must not wait for the end of its turn.
    this.transport?.flushWrites?.();
    return waiting;
  }

  /** websock_recv_now: the next piece, or ERR.AGAIN; no Promise, nothing allocated. */
  recvNow(hdr: websock_msg_hdr_t, buf: Uint8Array, len: number): number {
    if (this.recvSettle !== null) return this.fail(ERR.BUSY, ERR.BUSY.message);
    this.conn.advance();
    const n = this.take(hdr, buf, len);
    this.service();
    if (n !== NOTHING_READY) return n;
    clearHeader(hdr);
    return ERR.AGAIN.code;
  }

  /** Reads a piece into buf (the end of the connection sets the last error); NOTHING_READY when none is ready. */
  private take(hdr: websock_msg_hdr_t, buf: Uint8Array, len: number): number {
    const r = this.reconnector;
    if (r !== null && r.noticePending) {
      // Once after each reconnect, before anything of the new connection.
      this.setError(r.takeNotice());
      clearHeader(hdr);
      return ERR.RECONNECTED.code;
    }
    let n = this.conn.read(hdr, buf, 0, len);
    if (n === NOTHING_READY) return n;
    if (n >= 0) n = this.readOn(hdr, buf, n, len);
    if (r !== null) {
      if (n < 0 && r.down) {
        // The dropped connection's end is not the application's: it waits for the next one.
        r.readerAtEnd();
        return NOTHING_READY;
      }
      if (n >= 0) r.lastPieceComplete = hdr.fin && hdr.bytesleft === 0;
    }
    if (n < 0) {
      this.setError(errorFrom(this.conn.ending!));
      clearHeader(hdr);
    }
    return n;
  }

  /**
   * After a piece buf[0, n): reading made room, so what the transport holds
   * back is pulled in, and more of the same frame is read on while it is in
   * and buf has room: one piece up to `len`, where each rx buffer's worth
   * would otherwise be a call of its own (and on XS a Promise). Not for a
   * compressed frame: its pieces come out of the inflater's window.
   */
  private readOn(hdr: websock_msg_hdr_t, buf: Uint8Array, n: number, len: number): number {
    this.readIn();
    const conn = this.conn;
    if (conn.receiver.inflating) return n;
    const offset = hdr.offset;
    while (n < len && hdr.bytesleft > 0) {
      // Nothing in yet (or only the connection's end, delivered by the next call): hdr is left as it is.
      const more = conn.read(hdr, buf, n, len - n);
      if (more < 0) break;
      n += more;
      this.readIn();
    }
    hdr.offset = offset;
    return n;
  }

  private settleRecv(n: number): void {
    const settle = this.recvSettle!;
    this.recvSettle = null;
    this.recvHdr = null;
    this.recvBuf = null;
    this.recvDeadline = Infinity;
    settle(n);
  }

  /** Registers (or, with null, removes) the callback that receives every piece instead of websock_recv. */
  setCallback(callback: websock_callback_t | null): number {
    if (callback !== null && this.recvSettle !== null) return this.fail(ERR.BUSY, "a websock_recv is waiting on this handle");
    this.callback = callback;
    // Pieces already waiting are delivered on the next turn, not inside this call.
    if (callback !== null) Promise.resolve().then(() => this.service());
    return WEBSOCK_OK;
  }

  /** Closes with `code` and `reason` (after what was sent before), waits for the end, then releases the handle. */
  /** Resolves with 0, or the code of what went wrong (CLOSE_TIMEOUT: the peer did not answer in time). */
  async close(code: number, reason: Uint8Array): Promise<number> {
    this.stopReconnecting();
    this.conn.close(code, reason);
    this.service();
    // The core's close deadline bounds this wait: it drops the stream when close_timeout passes.
    await this.whenClosed();
    const ending = this.conn.ending;
    this.release();
    if (ending !== null && ending.error === ERR.CLOSE_TIMEOUT) {
      this.setError(errorFrom(ending));
      return ending.error.code;
    }
    return WEBSOCK_OK;
  }

  /**
   * libdill's ws_detach: runs the close handshake (none in raw mode) and
   * gives back the stream, with what websock had read past the close frame
   * put back in front; null when the stream ended first.
   */
  async detach(): Promise<unknown> {
    this.bits |= DETACHING;
    if (!this.conn.rawMode) {
      this.conn.close(1000, EMPTY);
      this.service();
      await this.whenClosed();
    }
    const t = this.transport;
    if ((this.bits & TRANSPORT_ENDED) !== 0 || t === null || t.detach === undefined) {
      this.fail(ERR.NOT_OPEN, "the stream ended before it could be detached");
      this.release();
      return null;
    }
    const stream = t.detach(this.conn.detach());
    this.bits |= TRANSPORT_ENDED;
    this.release();
    return stream;
  }

  private whenClosed(): Promise<void> {
    return new Promise<void>((resolve) => {
      (this.closeWaiters ??= []).push(resolve);
      this.service();
    });
  }

  /** Ends everything the handle holds: the stream, the timer, whoever waits. */
  release(): void {
    if (this.bits & RELEASED) return;
    this.bits |= RELEASED;
    this.endTransport(false);
    if (this.timer !== null) {
      this.host.clearTimer(this.timer);
      this.timer = null;
    }
    if (this.recvSettle !== null) this.settleRecv(this.fail(ERR.NOT_OPEN, "the handle was closed while websock_recv waited"));
    this.conn.abandon(ERR.NOT_OPEN.code);
    this.settleSends();
    this.settleClosed();
    // Nothing big stays with a closed handle the application still holds.
    this.conn.release();
    clearViews(this);
    if (this.spare !== null) this.spare = null;
    this.transport = null;
  }

  // ---- moving bytes ----

  /** Pulls what the transport has into the rx buffer, as long as there is room. */
  private readIn(): void {
    const t = this.transport;
    if (t === null || (this.bits & (RELEASED | READING)) !== 0 || this.tunnel !== null) return;
    const conn = this.conn;
    // Detaching: once the peer's close is in, what follows stays for the stream's next owner.
    if ((this.bits & DETACHING) !== 0 && conn.receiver.stopped) return;
    this.bits |= READING;
    try {
      for (;;) {
        const room = conn.prepareReceive();
        if (room === 0) break;
        const end = conn.rxEnd;
        const n = t.read(conn.rx, end, end + room);
        if (n === 0) break;
        conn.commitReceive(n);
      }
    } finally {
      this.bits &= ~READING;
    }
    const ended = this.endWhileReading;
    if (ended === null) return;
    this.endWhileReading = null;
    // The end the transport reported from inside read(), now that what it read is counted.
    if (ended === EOF) this.conn.receiveEof();
    else this.conn.transportFailed({ error: TRANSPORT_ERRORS[ended.kind] ?? ERR.IO, detail: ended.message, tlsReason: ended.tlsReason });
  }

  /** Writes what the core produces until the transport pushes back; ends the stream when the core says so. */
  private pump(): void {
    const conn = this.conn;
    while (!(this.bits & TRANSPORT_ENDED)) {
      const n = conn.produce();
      if (n === 0) return;
      if (n === DROP_STREAM) {
        this.endTransport(false);
        return;
      }
      if (n === END_STREAM) {
        // Detaching hands the stream back instead (detach()).
        if (!(this.bits & DETACHING)) this.endTransport((this.bits & CONNECTED) !== 0);
        return;
      }
      const t = this.transport;
      if (t === null || (this.bits & CONNECTED) === 0 || (this.bits & WRITE_BLOCKED) !== 0) return;
      const tx = conn.tx;
      const start = conn.txStart;
      const taken = t.write(viewOf(this, tx, start, n));
      conn.written(taken);
      if (taken < n) {
        this.bits |= WRITE_BLOCKED;
        conn.blocked();
        return;
      }
    }
  }

  private endTransport(graceful: boolean): void {
    const t = this.transport;
    if (this.bits & TRANSPORT_ENDED) return;
    this.bits |= TRANSPORT_ENDED;
    if (t === null) return;
    if (graceful) t.close();
    else t.destroy();
  }

  /** A throw inside the core (a bug) fails the connection with 1011 instead of escaping to the host. */
  private internalError(e: unknown): void {
    this.conn.abort(ERR.INTERNAL, String(e));
  }

  /**
   * After anything happened: write, settle what the core's events finished,
   * deliver to the callback, wake the waiting websock_recv, re-arm the timer.
   */
  service(): void {
    if (this.bits & SERVICING) {
      this.bits |= AGAIN;
      return;
    }
    this.bits |= SERVICING;
    try {
      this.runService();
    } catch (e) {
      // A bug: fail the connection with 1011 (WEBSOCK_ERR_INTERNAL) and let the close frame and
      // every waiter through; if that faults too, drop the stream: nothing is left half done.
      this.conn.abort(ERR.INTERNAL, String(e));
      try {
        this.runService();
      } catch (again) {
        this.conn.abandon(ERR.INTERNAL.code);
        this.endTransport(false);
        this.release();
      }
    } finally {
      this.bits &= ~SERVICING;
    }
  }

  private runService(): void {
    do {
      this.bits &= ~AGAIN;
      this.pump();
      const events = this.conn.takeEvents();
      // Closing discards what arrives: read on, so a transport held back by a full rx buffer
      // flows again (the peer keeps reading what we send only while we read what it sends).
      if ((events & EVENT_INPUT) !== 0) this.readIn();
      if ((events & EVENT_SENT) !== 0) this.settleSends();
      if (this.reconnector !== null && (events & (EVENT_OPENED | EVENT_CLOSED)) !== 0) this.reconnectEvents(events);
      if (this.openSettle !== null && (events & (EVENT_OPENED | EVENT_CLOSED)) !== 0) this.settleOpen();
      if (this.callback !== null && (this.bits & IN_CALLBACK) === 0) {
        // A callback asks for everything: what waits behind a frame read to its end (by websock_recv,
        // before the callback was set) is parsed now, or nothing would ever make it readable.
        this.conn.advance();
        if (this.conn.readable) this.deliverToCallback();
      }
      if (this.recvSettle !== null) this.tryRecv();
      if (this.closeWaiters !== null) this.settleClosed();
      // What the steps above caused (a pong to write, a send finished) is handled before leaving.
      if (this.conn.hasEvents) this.bits |= AGAIN;
    } while (this.bits & AGAIN);
    this.armTimer();
  }

  private settleOpen(): void {
    const settle = this.openSettle!;
    this.openSettle = null;
    // Opened counts even when frames right behind the 101 already ended it: recv delivers them, then the end.
    settle(this.conn.opened ? this : null);
  }

  private settleSends(): void {
    for (let m = this.conn.takeFinished(); m !== null;) {
      const next = m.next;
      const settle = m.settle;
      const code = m.status;
      if (code < 0) {
        // Why it failed is the connection's end (or, for a stream that is gone, the code it failed with).
        const ending = this.conn.ending;
        const row = ending !== null && ending.error.code === code ? ending.error : errorOf(code);
        const why = ending !== null && ending.error.code === code ? ending.detail : row.message;
        this.setError(errorFrom({ error: row, detail: `this message was not sent: ${why}`, closeCode: ending?.closeCode }));
      }
      this.recycle(m);
      if (settle !== null) settle(code);
      m = next;
    }
  }

  private tryRecv(): void {
    if (this.bits & RELEASED) {
      this.settleRecv(this.fail(ERR.NOT_OPEN, "the handle was closed while websock_recv waited"));
      return;
    }
    if (!this.conn.readable && this.reconnector?.noticePending !== true) return;
    const n = this.take(this.recvHdr!, this.recvBuf!, this.recvLen);
    if (n !== NOTHING_READY) this.settleRecv(n);
  }

  private settleClosed(): void {
    const waiters = this.closeWaiters;
    if (waiters === null) return;
    const done = (this.bits & (RELEASED | TRANSPORT_ENDED)) !== 0 || ((this.bits & DETACHING) !== 0 && (this.conn.closeHandshakeDone || this.conn.state === STATE_CLOSED));
    if (!done) return;
    this.closeWaiters = null;
    for (let i = 0; i < waiters.length; i++) waiters[i]();
  }

  /**
   * The callback model: every piece that is ready goes to the callback, read
   * in place (the view is valid during the call only); the end of the
   * connection is one last call with opcode -1 and no data.
   */
  private deliverToCallback(): void {
    const conn = this.conn;
    const hdr = (this.callbackHdr ??= { fin: false, opcode: -1, payload_len: 0, offset: 0, bytesleft: 0 });
    this.bits |= IN_CALLBACK;
    try {
      while (this.callback !== null) {
        conn.advance();
        const n = conn.read(hdr, null, 0, conn.rx.length);
        if (n === NOTHING_READY) break;
        const callback = this.callback;
        const r = this.reconnector;
        if (n < 0 && r !== null && r.down) {
          r.readerAtEnd();
          break;
        }
        if (r !== null && n >= 0) r.lastPieceComplete = hdr.fin && hdr.bytesleft === 0;
        if (n < 0) {
          this.setError(errorFrom(conn.ending!));
          clearHeader(hdr);
          this.callback = null;
          callback(this as unknown as websock_handle_t, hdr, EMPTY);
          break;
        }
        // The rx buffer, or the inflater's window for a compressed message.
        const piece = conn.receiver.pieceBuffer;
        const start = conn.receiver.pieceStart;
        callback(this as unknown as websock_handle_t, hdr, viewOf(this, piece, start, n));
        this.readIn();
        this.pump();
      }
    } catch (e) {
      this.callback = null;
      conn.abort(ERR.CALLBACK, `the frame callback threw: ${String(e)}`);
      if (conn.ending !== null) this.setError(errorFrom(conn.ending));
    } finally {
      this.bits &= ~IN_CALLBACK;
    }
  }

  // ---- reconnecting (reconnector.ts decides; these act) ----

  private reconnectEvents(events: number): void {
    const r = this.reconnector!;
    if ((events & EVENT_OPENED) !== 0) r.opened();
    if ((events & EVENT_CLOSED) !== 0 && (this.bits & RELEASED) === 0) r.ended();
  }

  /** websock_close: no more attempts; one under way is dropped at once. */
  private stopReconnecting(): void {
    const r = this.reconnector;
    if (r === null) return;
    const wasConnecting = r.connecting;
    r.giveUp(ERR.CLOSED_LOCALLY.code);
    if (wasConnecting) this.conn.abort(ERR.CLOSED_LOCALLY, "closed by this side while reconnecting");
  }

  /** The next attempt: `next` takes the place of the dropped connection (whose stream ends now), and connects to `target`. */
  reconnectWith(next: Connection, target: ConnectTarget): void {
    this.endTransport(false);
    this.conn.abandon(ERR.CONNECTION_LOST.code);
    // Whatever the old connection still had queued is settled before it is let go.
    this.settleSends();
    this.conn = next;
    this.transport = null;
    this.bits &= ~(CONNECTED | TRANSPORT_ENDED | WRITE_BLOCKED);
    this.endWhileReading = null;
    try {
      this.transport = this.host.connect(target, this);
    } catch (e) {
      next.transportFailed({ error: ERR.CONNECT, detail: String(e) });
    }
    this.service();
  }

  /** A send held while down, on the new connection. */
  sendHeld(m: OutgoingMessage): void {
    const refusal = this.conn.send(m);
    if (refusal !== null) this.failHeld(m, refusal.error.code, refusal.detail);
  }

  /** A held send that will not go: its Promise settles with `code`. */
  failHeld(m: OutgoingMessage, code: number, detail?: string): void {
    const settle = m.settle;
    m.status = code;
    const row = errorOf(code);
    this.setError(errorFrom({ error: row, detail: `this message was not sent: ${detail ?? row.message}` }));
    this.recycle(m);
    if (settle !== null) settle(code);
  }

  // ---- time ----

  /**
   * Keeps the one timer due at or before the earliest deadline: the core's
   * (open, heartbeat, pong, close, send) and the waiting websock_recv's. A
   * timer due earlier than needed is left as it is: it fires, finds nothing
   * due and is set again for what remains. So websock_recv, whose deadline
   * only moves later from one call to the next, costs a comparison per call
   * instead of setting and clearing a timer; that holds between two calls
   * too: a timer set for a websock_recv's deadline stays when that call
   * settles, since the next call, which usually follows at once, needs it
   * (if none does, it fires once, finds nothing due and is not set again).
   * Once nothing at all is due otherwise (the open timeout passed by opening,
   * and no heartbeat), the timer is cleared: an idle connection holds no
   * timer (on Moddable a timer and its callback are about 10 slots). A timer
   * that fired is never cleared (on Moddable that is an error).
   */
  private armTimer(): void {
    if (this.bits & RELEASED) return;
    const core = this.conn.nextDeadline();
    let at = core < this.recvDeadline ? core : this.recvDeadline;
    const retryAt = this.reconnector !== null ? this.reconnector.retryAt : Infinity;
    if (retryAt < at) at = retryAt;
    if (this.timer !== null) {
      if (this.timerAt <= at && (at !== Infinity || (this.bits & TIMER_FOR_RECV) !== 0)) return;
      this.host.clearTimer(this.timer);
      this.timer = null;
      this.timerAt = Infinity;
    }
    if (at === Infinity) return;
    const now = this.host.now();
    let ms = at - now;
    if (ms < 0) ms = 0;
    if (ms > MAX_TIMER_MS) ms = MAX_TIMER_MS;
    this.timerAt = now + ms;
    this.bits = at === this.recvDeadline ? this.bits | TIMER_FOR_RECV : this.bits & ~TIMER_FOR_RECV;
    this.timer = this.host.setTimer(ms, this);
  }

  /** The handle's timer fired (TimerTarget). */
  onTimer(): void {
    this.timer = null;
    this.timerAt = Infinity;
    if (this.bits & RELEASED) return;
    try {
      const conn = this.conn;
      if ((this.bits & CONNECTED) === 0 && this.transport?.tlsHandshaking?.() === true) conn.noteOpenPhase("in the TLS handshake");
      conn.tick();
      this.reconnector?.due(this.host.now());
      if (this.recvSettle !== null && this.host.now() >= this.recvDeadline) {
        clearHeader(this.recvHdr!);
        this.settleRecv(0);
      }
    } catch (e) {
      this.internalError(e);
    }
    this.service();
  }
}
// What an open connection that exchanges messages through one model never writes (cold-fields.ts).
defineColdFields(Session.prototype, {
  ...NO_VIEWS,
  spare: null,
  endWhileReading: null,
  lastError: NO_ERROR,
  defaultOpcode: OPCODE_BINARY,
  tunnel: null,
  url: "",
  redirects: 0,
  openSettle: null,
  recvSettle: null,
  recvHdr: null,
  recvBuf: null,
  recvLen: 0,
  recvDeadline: Infinity,
  callback: null,
  callbackHdr: null,
  closeWaiters: null,
  reconnector: null,
  timer: null,
  timerAt: Infinity,
});
