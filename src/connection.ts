// The connection state machine (RFC 6455 §4-§7), sans I/O. It is driven:
// bytes in (prepareReceive/commitReceive, receiveEof), bytes out (produce),
// time in (tick, nextDeadline). It never throws out of any of them; a
// violation becomes a failure with a close code. The host-facing layer
// (websock.ts) moves the bytes and arms the timer.
//
//   CONNECTING --101 checked--> OPEN --close sent or received--> CLOSING --both / TCP end--> CLOSED

import { CLOSE_ABNORMAL, CLOSE_NO_STATUS, ERR, type ErrorRow } from "./errors.js";
import {
  HeadParser,
  acceptFor,
  buildAcceptResponse,
  buildRefusal,
  buildRequest,
  checkRequest,
  checkResponse,
  type HandshakeRequest,
  type UpgradeRequest,
} from "./handshake.js";
import { base64Encode } from "./base64.js";
import { NOTHING_READY, Receiver, type ReceiverEvents } from "./receiver.js";
import { Sender } from "./sender.js";
import { utf8Encode } from "./utf8.js";
import { MAX_CLOSE_REASON } from "./opcodes.js";
import type { websock_msg_hdr_t } from "./types.js";

export const STATE_CONNECTING = 0;
export const STATE_OPEN = 1;
export const STATE_CLOSING = 2;
export const STATE_CLOSED = 3;
export const STATE_NAMES = Object.freeze(["CONNECTING", "OPEN", "CLOSING", "CLOSED"] as const);

/** What the transport should do next, as asked by the core. */
export const TRANSPORT_KEEP = 0;
/** End it gracefully (after what was produced has been written). */
export const TRANSPORT_CLOSE = 1;
/** Drop it now. */
export const TRANSPORT_DESTROY = 2;

export { NOTHING_READY };

/** Why the connection ended, or why it cannot go on; with the details websock_last_error shows. */
export interface Failure {
  error: ErrorRow;
  detail: string;
  httpStatus?: number;
  closeCode?: number;
  closeReason?: string;
  tlsReason?: string;
}

export interface ConnectionOptions {
  /** "client" masks what it sends and refuses masked frames; "server" the mirror image (RFC 6455 §5.1). */
  role: "client" | "server";
  /** The fixed buffers, allocated by the caller (once, at open). */
  rxBuffer: Uint8Array;
  txBuffer: Uint8Array;
  autoPong: boolean;
  maxMessageSize: number;
  /** ms; 0: no heartbeat. */
  pingInterval: number;
  pongTimeout: number;
  closeTimeout: number;
  randomFill(out: Uint8Array): void;
  sha1(data: Uint8Array): Uint8Array;
  now(): number;
}

export class Connection implements ReceiverEvents {
  state = STATE_CONNECTING;
  /** The handshake succeeded; stays true when frames right behind the 101 end the connection. */
  opened = false;
  /** Set once the connection cannot deliver more: why recv returns < 0 after the buffered data. */
  ending: Failure | null = null;
  transportAction = TRANSPORT_KEEP;

  readonly receiver: Receiver;
  readonly sender: Sender;

  /** The subprotocol chosen by the server ("" for none). */
  subprotocol = "";
  /** The peer's handshake head: the response (client role) or the request (server role). */
  response: HeadParser | null = null;
  /** Server role: what the client asked for. */
  request: UpgradeRequest | null = null;
  /** After the handshake, bytes pass through unframed both ways (libcurl's raw mode). */
  rawMode = false;

  private readonly options: ConnectionOptions;
  private readonly isServer: boolean;
  private expectedAccept = "";
  /** Client: the subprotocols offered. Server: those it supports, most preferred first. */
  private offered: readonly string[] = [];
  private rawAfterHandshake = false;

  private closeReceived = false;
  private nextPingAt = Infinity;
  private pongDeadline = Infinity;
  private closeDeadline = Infinity;
  private readonly heartbeat = new Uint8Array(4);
  private heartbeatCount = 0;

  constructor(options: ConnectionOptions) {
    this.options = options;
    this.isServer = options.role === "server";
    this.receiver = new Receiver(
      options.rxBuffer,
      { expectMasked: this.isServer, deliverPings: !options.autoPong, maxMessageSize: options.maxMessageSize },
      this,
    );
    this.sender = new Sender(options.txBuffer, !this.isServer, options.randomFill);
  }

  /** Raw mode starts once the handshake is done (or now, when already open). */
  setRawMode(): void {
    this.rawAfterHandshake = true;
    if (this.state === STATE_OPEN) this.enterRawMode();
  }

  /** Queues the upgrade request; the response is parsed from the bytes that arrive next. */
  startHandshake(request: HandshakeRequest): void {
    const nonce = new Uint8Array(16);
    // §4.1: a nonce of 16 randomly selected bytes, base64-encoded.
    this.options.randomFill(nonce);
    const key = base64Encode(nonce);
    this.expectedAccept = acceptFor(key, this.options.sha1);
    this.offered = request.subprotocols;
    this.response = new HeadParser("response");
    this.sender.queueRaw(buildRequest(request, key));
  }

  /** Server role: waits for the upgrade request; `supported` subprotocols, most preferred first. */
  acceptHandshake(supported: readonly string[]): void {
    this.offered = supported;
    this.response = new HeadParser("request");
  }

  /** Opens without a handshake (tests of the framer; WS_NOHTTP). */
  startOpen(): void {
    this.becomeOpen();
  }

  // ---- bytes in ----

  /** Makes room in the rx buffer; returns how many bytes the host may copy to rx at rxEnd. */
  prepareReceive(): number {
    return this.receiver.prepareSpace();
  }

  get rx(): Uint8Array {
    return this.receiver.buf;
  }

  get rxEnd(): number {
    return this.receiver.end;
  }

  /** Counts `n` bytes copied to rx at rxEnd, and acts on them. */
  commitReceive(n: number): void {
    const r = this.receiver;
    if (this.state !== STATE_CONNECTING) {
      r.commit(n);
      return;
    }
    r.end += n;
    const head = this.response!;
    r.start += head.feed(r.buf, r.start, r.end);
    if (head.failure !== null) {
      if (this.isServer) this.refuseUpgrade({ status: 400, reason: head.failure.detail });
      else this.failHandshake(head.failure);
      return;
    }
    if (!head.done) return;
    if (this.isServer) {
      this.answerUpgrade(head);
    } else {
      const failure = checkResponse(head, this.expectedAccept, this.offered, this);
      if (failure !== null) {
        this.failHandshake(failure);
        return;
      }
      this.becomeOpen();
    }
    // Frames that came in the same segment as the handshake are parsed now, not lost.
    if (this.opened) r.commit(0);
  }

  /** Server role: answers a complete request with 101, or with 400 / 426 and the reason. */
  private answerUpgrade(head: HeadParser): void {
    const checked = checkRequest(head);
    if (!("key" in checked)) {
      this.refuseUpgrade(checked);
      return;
    }
    this.request = checked;
    // §4.2.2: the server picks one of the client's subprotocols, or none; ours by our preference.
    this.subprotocol = this.offered.find((p) => checked.subprotocols.includes(p)) ?? "";
    this.sender.queueRaw(buildAcceptResponse(acceptFor(checked.key, this.options.sha1), this.subprotocol));
    this.becomeOpen();
  }

  private refuseUpgrade(refusal: { status: 400 | 426; reason: string }): void {
    this.sender.queueRaw(buildRefusal(refusal));
    this.ending = { error: ERR.BAD_REQUEST, detail: refusal.reason, httpStatus: refusal.status };
    this.receiver.stop();
    this.state = STATE_CLOSED;
    // The refusal is written first: a graceful end waits for it.
    this.transportAction = TRANSPORT_CLOSE;
  }

  /** Convenience for hosts that push bytes: copies what fits, returns how many were taken. */
  receiveData(bytes: Uint8Array, start = 0, end = bytes.length): number {
    let taken = 0;
    while (start + taken < end) {
      const room = this.prepareReceive();
      if (room === 0) break;
      const n = Math.min(room, end - start - taken);
      this.rx.set(bytes.subarray(start + taken, start + taken + n), this.rxEnd);
      this.commitReceive(n);
      taken += n;
    }
    return taken;
  }

  /** The peer closed the TCP stream. */
  receiveEof(): void {
    if (this.state === STATE_CONNECTING) {
      this.failHandshake({ error: ERR.HANDSHAKE_EOF, detail: "the server closed the connection before the handshake finished" });
      return;
    }
    if (this.ending === null) {
      // §7.1.5: the close code is 1006 when the connection closed without a close frame.
      const detail = this.receiver.midMessage ? "the stream ended in the middle of a frame or message" : "the stream ended without a close frame";
      this.ending = { error: ERR.CONNECTION_LOST, detail, closeCode: CLOSE_ABNORMAL };
    }
    // The receiver is not stopped: what is already buffered is still delivered before the error.
    this.state = STATE_CLOSED;
    this.closeDeadline = Infinity;
    this.transportAction = TRANSPORT_CLOSE;
  }

  /** The transport failed (reset, TLS alert...). */
  transportFailed(failure: Failure): void {
    if (this.ending === null) this.ending = failure;
    this.state = STATE_CLOSED;
    this.stopTimers();
    this.transportAction = TRANSPORT_DESTROY;
  }

  /**
   * Copies the next piece of the current frame into out[outStart, outStart + len)
   * and describes it in hdr. Returns the count, NOTHING_READY, or the negative
   * code of `ending` once everything before it was delivered.
   */
  read(hdr: websock_msg_hdr_t, out: Uint8Array | null, outStart: number, len: number): number {
    const n = this.receiver.read(hdr, out, outStart, len);
    if (n !== NOTHING_READY) return n;
    return this.ending !== null && this.state !== STATE_CONNECTING ? this.ending.error.code : NOTHING_READY;
  }

  /** Whether read() would return something other than NOTHING_READY. */
  get readable(): boolean {
    return this.receiver.hasPiece() || (this.ending !== null && this.state !== STATE_CONNECTING);
  }

  // ---- ReceiverEvents ----

  onPing(payload: Uint8Array, start: number, end: number): void {
    // §5.5.2: a pong answers a ping "as soon as is practical", with the same payload.
    if (this.state === STATE_OPEN) this.sender.queuePong(payload, start, end);
  }

  onPong(payload: Uint8Array, start: number, end: number): void {
    // §5.5.3: an unsolicited pong is not answered; one that echoes our heartbeat proves the peer alive.
    if (this.pongDeadline === Infinity || end - start !== 4) return;
    for (let i = 0; i < 4; i++) if (payload[start + i] !== this.heartbeat[i]) return;
    this.pongDeadline = Infinity;
  }

  onClose(code: number, reason: string): void {
    this.closeReceived = true;
    if (this.state === STATE_OPEN) {
      this.ending = { error: ERR.CLOSED_BY_PEER, detail: `close code ${code}${reason ? ` (${reason})` : ""}`, closeCode: code, closeReason: reason };
      // §5.5.1: answer with a close frame, echoing the status code received.
      this.sender.dropUnstarted();
      this.sender.queueClose(code === CLOSE_NO_STATUS ? 0 : code, EMPTY);
    } else if (this.ending !== null && this.ending.closeCode === undefined) {
      this.ending.closeCode = code;
      this.ending.closeReason = reason;
    }
    this.state = STATE_CLOSING;
    this.stopHeartbeat();
    this.armCloseDeadline();
    this.settleClosing();
  }

  onProtocolError(error: ErrorRow): void {
    this.fail(error, error.message);
  }

  /** Fails the connection from this side (an application fault): sends error.closeCode, stops reading. */
  abort(error: ErrorRow, detail: string): void {
    if (this.state === STATE_OPEN || this.state === STATE_CLOSING) this.fail(error, detail);
  }

  // ---- bytes out ----

  /** Fills sender.buf with the next bytes to write; returns the count (0: nothing). */
  produce(): number {
    const n = this.sender.produce();
    if (n === 0) this.settleClosing();
    return n;
  }

  get tx(): Uint8Array {
    return this.sender.buf;
  }

  get hasOutput(): boolean {
    return this.sender.hasOutput;
  }

  /** Starts the closing handshake from this side (websock_close). `reason` is UTF-8 bytes, <= 123. */
  close(code: number, reason: Uint8Array): void {
    if (this.state !== STATE_OPEN) return;
    if (this.rawMode) {
      // No frames in raw mode: closing is ending the stream.
      this.ending = { error: ERR.CLOSED_LOCALLY, detail: "closed by this side (raw mode)" };
      this.state = STATE_CLOSED;
      this.transportAction = TRANSPORT_CLOSE;
      return;
    }
    this.ending = { error: ERR.CLOSED_LOCALLY, detail: `closed by this side with ${code}`, closeCode: code };
    this.sender.dropUnstarted();
    this.sender.queueClose(code, reason);
    this.state = STATE_CLOSING;
    this.stopHeartbeat();
    // §7.1.2: after sending close, keep reading until the peer's close; data is discarded.
    this.receiver.discardDataFrames();
    this.armCloseDeadline();
  }

  // ---- time ----

  /** The time (host clock, ms) at which tick() must be called; Infinity for never. */
  nextDeadline(): number {
    return Math.min(this.nextPingAt, this.pongDeadline, this.closeDeadline);
  }

  tick(): void {
    const now = this.options.now();
    if (now >= this.closeDeadline) {
      this.closeDeadline = Infinity;
      if (this.ending === null) this.ending = { error: ERR.CLOSE_TIMEOUT, detail: ERR.CLOSE_TIMEOUT.message };
      this.receiver.stop();
      this.state = STATE_CLOSED;
      this.transportAction = TRANSPORT_DESTROY;
      return;
    }
    if (now >= this.pongDeadline) {
      // A dead peer cannot answer a close frame either: drop the connection (1006).
      this.transportFailed({ error: ERR.PONG_TIMEOUT, detail: `no pong within ${this.options.pongTimeout} ms`, closeCode: CLOSE_ABNORMAL });
      return;
    }
    if (now >= this.nextPingAt && this.state === STATE_OPEN) {
      this.nextPingAt = now + this.options.pingInterval;
      // One heartbeat at a time: a new ping must not push back the deadline of the one unanswered.
      if (this.pongDeadline !== Infinity) return;
      this.heartbeatCount = (this.heartbeatCount + 1) >>> 0;
      const c = this.heartbeatCount;
      this.heartbeat[0] = c >>> 24;
      this.heartbeat[1] = (c >> 16) & 0xff;
      this.heartbeat[2] = (c >> 8) & 0xff;
      this.heartbeat[3] = c & 0xff;
      this.sender.queuePing(this.heartbeat, 0, 4);
      this.pongDeadline = now + this.options.pongTimeout;
    }
  }

  // ---- internals ----

  private becomeOpen(): void {
    this.state = STATE_OPEN;
    this.opened = true;
    if (this.rawAfterHandshake) this.enterRawMode();
    else if (this.options.pingInterval > 0) this.nextPingAt = this.options.now() + this.options.pingInterval;
  }

  private enterRawMode(): void {
    this.rawMode = true;
    this.stopHeartbeat();
    this.receiver.passThrough();
  }

  /** Raw mode: queues bytes to go out untouched. */
  queueRaw(bytes: Uint8Array): void {
    this.sender.queueRaw(bytes);
  }

  private failHandshake(failure: Failure): void {
    this.ending = failure;
    this.receiver.stop();
    this.state = STATE_CLOSED;
    this.transportAction = TRANSPORT_DESTROY;
  }

  /** §7.1.7 Fail the WebSocket Connection: send the close code, stop processing input. */
  private fail(error: ErrorRow, detail: string): void {
    const wasOpen = this.state === STATE_OPEN;
    if (this.ending === null || this.ending.error === ERR.CLOSED_LOCALLY) {
      this.ending = { error, detail, closeCode: error.closeCode };
    }
    this.receiver.stop();
    if (wasOpen) {
      this.sender.dropUnstarted();
      this.sender.queueClose(error.closeCode, EMPTY);
      this.state = STATE_CLOSING;
      this.stopHeartbeat();
      this.armCloseDeadline();
    } else {
      // Already closing: the peer broke the protocol while we waited for its close.
      this.state = STATE_CLOSED;
      this.transportAction = TRANSPORT_CLOSE;
    }
  }

  /**
   * Once our close frame is out and the peer's close arrived (or we failed),
   * the client waits for the server to end TCP (§7.1.1), bounded by closeDeadline.
   */
  private settleClosing(): void {
    if (this.state !== STATE_CLOSING || !this.sender.closeSent) return;
    if (this.closeReceived || this.receiver.stopped) {
      this.state = STATE_CLOSED;
      // §7.1.1: the server closes the TCP connection first; the client waits for it.
      if (this.isServer) this.transportAction = TRANSPORT_CLOSE;
    }
  }

  private armCloseDeadline(): void {
    if (this.closeDeadline === Infinity) this.closeDeadline = this.options.now() + this.options.closeTimeout;
  }

  private stopHeartbeat(): void {
    this.nextPingAt = Infinity;
    this.pongDeadline = Infinity;
  }

  private stopTimers(): void {
    this.stopHeartbeat();
    this.closeDeadline = Infinity;
  }
}

const EMPTY = new Uint8Array(0);

/** Encodes a close reason, or returns null when it is longer than 123 bytes. */
export function encodeCloseReason(reason: string): Uint8Array | null {
  const bytes = utf8Encode(reason);
  return bytes.length <= MAX_CLOSE_REASON ? bytes : null;
}
