// The protocol object: one WebSocket connection (RFC 6455 §4-§7), both
// directions, sans I/O, after python-websockets' protocol object.
//
// In: the stream's bytes (prepareReceive/commitReceive or receiveData), its
// end (receiveEof, transportFailed), the application's calls (send, ping,
// pong, close) and time (tick). Out: pieces to read (read), bytes to write
// (produce, written), and a small fixed set of events (takeEvents): opened,
// readable, sends finished, closed. Every rule about what may be received,
// what may be sent and when lives here, so the test vectors cover both ways.
// It never throws out of any of them for what the network or the caller
// sends: a violation becomes a failure with a close code.
//
//   CONNECTING --101 checked--> OPEN --close sent or received--> CLOSING --both / TCP end--> CLOSED
//
// The order of the stream is kept: the end of the stream (EOF, a reset) and
// a close frame take effect only once every byte that came before them has
// been parsed, and parsing never runs ahead of a payload the application has
// not read, nor past the end of a frame it has just read until it asks for
// more (advance). So an application that answers each message, however late,
// answers it before the connection ends under it.

import { CLOSE_ABNORMAL, CLOSE_NO_STATUS, ERR, TLS_REASON, type ErrorRow } from "./errors.js";
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
import {
  NOTHING_READY,
  PARSE_CLOSE,
  PARSE_DATA,
  PARSE_FAILED,
  PARSE_PING,
  PARSE_PONG,
  Receiver,
} from "./receiver.js";
import { Sender } from "./sender.js";
import { wordsOf } from "./mask.js";
import { MESSAGE_COMPRESSED, MESSAGE_FIN, MESSAGE_INTERNAL, MESSAGE_RAW, OutgoingMessage } from "./outgoing.js";
import type { TextPlatform } from "./text-cursor.js";
import { UTF8_ACCEPT, UTF8_REJECT, utf8Validate } from "./utf8.js";
import { MAX_CONTROL_PAYLOAD, OPCODE_CONTINUATION, OPCODE_TEXT } from "./opcodes.js";
import type { websock_msg_hdr_t } from "./types.js";
import { buildOffer, type AgreedDeflate, type DeflateOffer } from "./permessage-deflate.js";
import { MessageInflater } from "./message-inflater.js";
import type { MessageCompressor } from "./host.js";
import { utf8Encode } from "./utf8.js";
import { defineColdFields } from "./cold-fields.js";
import { Opening } from "./opening.js";

export const STATE_CONNECTING = 0;
export const STATE_OPEN = 1;
export const STATE_CLOSING = 2;
export const STATE_CLOSED = 3;
export const STATE_NAMES = Object.freeze(["CONNECTING", "OPEN", "CLOSING", "CLOSED"] as const);

// takeEvents() bits.
/** The handshake succeeded. */
export const EVENT_OPENED = 1;
/** A piece, or the end of the connection, is ready for read(). */
export const EVENT_READABLE = 2;
/** Messages finished (sent, or failed): takeFinished() has them. */
export const EVENT_SENT = 4;
/** The protocol is done (state CLOSED): the handshake failed, or the connection ended. */
export const EVENT_CLOSED = 8;
/** Something was queued to send while handling input or time (a pong, a close, a heartbeat): produce() has bytes. */
export const EVENT_OUTPUT = 16;
/** Input held back is taken again (closing discards what arrives): read the transport, it may hold more. */
export const EVENT_INPUT = 32;

// What produce() returns besides a byte count.
/** Everything is written: end the stream gracefully now. */
export const END_STREAM = -1;
/** Drop the stream now, written or not. */
export const DROP_STREAM = -2;

export { NOTHING_READY };

/** Why the connection ended, or why it cannot go on; with the details websock_last_error shows. */
export interface Failure {
  error: ErrorRow;
  detail: string;
  httpStatus?: number;
  closeCode?: number;
  closeReason?: string;
  tlsReason?: string;
  /** A handshake's 3xx Location (redirect.ts). */
  location?: string;
  /** A handshake's 401 WWW-Authenticate. */
  wwwAuthenticate?: string;
}

/** A refused call: the row and what exactly was wrong. */
export interface Refusal {
  error: ErrorRow;
  detail: string;
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
  /** ms for the stream and the handshake to be up (0: no limit). */
  openTimeout?: number;
  /** ms a send may make no progress before the connection is dropped (0: no limit). */
  sendTimeout?: number;
  /** Messages longer than this go out as frames of at most this many bytes (0: one frame each). */
  fragmentSize?: number;
  /** Randomness, SHA-1 and the clock: the Host itself, or any object with these. */
  platform: Platform;
  /** permessage-deflate to offer (client role); absent or null: none. */
  deflate?: DeflateOffer | null;
}

/** What the core needs of a platform (a subset of Host: a host is passed as it is, no closures made). */
// Text: the native UTF-8 writer, encoder and byte length, each optional (TextPlatform; a pure fallback encodes otherwise).
export interface Platform extends TextPlatform {
  /** Fills `out` with cryptographically strong random bytes (mask keys, Sec-WebSocket-Key). */
  randomFill(out: Uint8Array): void;
  sha1(data: Uint8Array): Uint8Array;
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Compression for sends (optional: Host.deflate). */
  deflate?: ((windowBits: number) => MessageCompressor) | null;
}

const EMPTY = new Uint8Array(0);

// The flags of a Connection: bits of its one `bits` field (on XS one slot for all of them).
/** The handshake succeeded; stays set when frames right behind the 101 end the connection. */
const OPENED = 1;
/** After the handshake, bytes pass through unframed both ways (libcurl's raw mode). */
const RAW_MODE = 2;
/** Raw mode was asked for before the handshake: it starts once open. */
const RAW_AFTER_HANDSHAKE = 4;
/** Outgoing fragmentation (RFC 6455 §5.4), in call order: inside a message, and whether it is text (sendUtf8 its UTF-8 state). */
const SENDING_FRAGMENTED = 8;
const SENDING_TEXT = 16;
/** The peer's close frame came. */
const CLOSE_RECEIVED = 32;
/** The stream ended (EOF, reset): no more input, and no output can leave. */
const INPUT_ENDED = 64;
/** read() finished a frame: what follows waits for advance(). */
const AWAITING_READER = 128;
/** The server role. */
const IS_SERVER = 256;

export class Connection {
  /** The flags above the class, as bits. */
  bits = 0;
  /** The handshake succeeded (OPENED). */
  get opened(): boolean {
    return (this.bits & OPENED) !== 0;
  }
  /** Bytes pass through unframed both ways (RAW_MODE). */
  get rawMode(): boolean {
    return (this.bits & RAW_MODE) !== 0;
  }
  state = STATE_CONNECTING;
  /** Set once the connection cannot deliver more: why read() returns < 0 after the buffered data. */
  declare ending: Failure | null;

  readonly receiver: Receiver;
  readonly sender: Sender;

  // The cold fields (cold-fields.ts: their first values are on the prototype, below the class).
  /** The subprotocol chosen by the server ("" for none). */
  declare subprotocol: string;
  /** permessage-deflate as agreed in the handshake; null when not in use. */
  declare deflate: AgreedDeflate | null;
  /** Compresses whole messages sent (deflate.compress on a host that can); null: they go out uncompressed. */
  declare compressor: MessageCompressor | null;
  /** Once parsed: the peer's head's status (a response's) and its header lines, "Name: value" joined by LF (one string, not an array per header). */
  declare peerStatus: number;
  declare peerHeaderText: string;
  /** Server role: what the client asked for. */
  declare request: UpgradeRequest | null;

  /** What only the opening needs (opening.ts); null once open, or once the opening failed. */
  private opening: Opening | null;
  private events = 0;

  /** Outgoing fragmentation (RFC 6455 §5.4): a text message's UTF-8 state so far. */
  private declare sendUtf8: number;

  /** How it ended: null for an orderly EOF (the failure is decided once the buffered input is parsed). */
  private declare inputFailure: Failure | null;
  /** END_STREAM or DROP_STREAM once decided; 0 until then. */
  private declare streamAction: number;

  // ConnectionOptions, copied (an object of its own costs slots on XS): what an open connection needs of them.
  // The platform is the sender's reference (the getter below): one slot per connection, not two.
  private readonly pongTimeout: number;
  private readonly closeTimeout: number;
  // 0 (none) unless configured: cold.
  private declare readonly pingInterval: number;
  private declare readonly sendTimeout: number;

  // The deadlines (host clock; Infinity: none), cold: a connection without a heartbeat or a blocked send never sets them.
  private declare nextPingAt: number;
  private declare pongDeadline: number;
  private declare closeDeadline: number;
  private declare stallDeadline: number;
  /** The heartbeat counter: each ping carries its next value, 4 bytes big-endian. */
  private declare heartbeatCount: number;

  constructor(options: ConnectionOptions) {
    if (options.pingInterval > 0) this.pingInterval = options.pingInterval;
    this.pongTimeout = options.pongTimeout;
    this.closeTimeout = options.closeTimeout;
    if ((options.sendTimeout ?? 0) > 0) this.sendTimeout = options.sendTimeout!;
    this.opening = new Opening(options.openTimeout ?? 0, options.deflate ?? null, options.platform.now());
    if (options.role === "server") this.bits |= IS_SERVER;
    // rx and tx carved from one ArrayBuffer (as websock_open allocates them) share one view of its words.
    const rxWords = wordsOf(options.rxBuffer);
    this.receiver = new Receiver(options.rxBuffer, {
      expectMasked: (this.bits & IS_SERVER) !== 0,
      deliverPings: !options.autoPong,
      maxMessageSize: options.maxMessageSize,
      words: rxWords,
    });
    this.sender = new Sender(options.txBuffer, {
      masking: (this.bits & IS_SERVER) === 0,
      platform: options.platform,
      fragmentSize: options.fragmentSize ?? 0,
      words: options.txBuffer.buffer === options.rxBuffer.buffer ? rxWords : wordsOf(options.txBuffer),
    });
  }

  /** The platform given in the options, as the sender holds it. */
  private get platform(): Platform {
    return this.sender.platform;
  }

  /** The events since the last call (EVENT_* bits). */
  takeEvents(): number {
    const e = this.events;
    this.events = 0;
    return e;
  }

  /** Whether events wait for takeEvents(). */
  get hasEvents(): boolean {
    return this.events !== 0;
  }

  /** The messages finished since the last call (status set), linked through `next`. */
  takeFinished(): OutgoingMessage | null {
    return this.sender.takeFinished();
  }

  // ---- opening ----

  /** Raw mode starts once the handshake is done (or now, when already open). */
  setRawMode(): void {
    this.bits |= RAW_AFTER_HANDSHAKE;
    if (this.state === STATE_OPEN) this.enterRawMode();
  }

  /** Queues the upgrade request; the response is parsed from the bytes that arrive next. */
  startHandshake(request: HandshakeRequest): void {
    const nonce = new Uint8Array(16);
    // §4.1: a nonce of 16 randomly selected bytes, base64-encoded.
    this.platform.randomFill(nonce);
    const key = base64Encode(nonce);
    const opening = this.opening!;
    opening.expectedAccept = acceptFor(key, this.platform.sha1);
    opening.offered = request.subprotocols;
    opening.head = new HeadParser("response");
    const deflate = opening.deflate;
    this.queueHead(buildRequest(deflate === null ? request : { ...request, extensions: buildOffer(deflate) }, key));
  }

  /** Server role: waits for the upgrade request; `supported` subprotocols, most preferred first. */
  acceptHandshake(supported: readonly string[]): void {
    const opening = this.opening!;
    opening.offered = supported;
    opening.head = new HeadParser("request");
  }

  /** Opens without a handshake (tests of the framer; WS_NOHTTP). */
  startOpen(): void {
    this.becomeOpen();
  }

  /** The stream is up (and TLS, when secured): now the handshake. */
  transportConnected(): void {
    this.noteOpenPhase("waiting for the handshake");
  }

  /** What the stream is doing while not open (a proxy's CONNECT, the TLS handshake), for the open timeout's message. */
  noteOpenPhase(phase: string): void {
    if (this.opening !== null) this.opening.phase = phase;
  }

  private queueHead(bytes: Uint8Array): void {
    // Internal: the driver never sees it finish, so it is not kept as the driver's spare
    // record (an idle connection that never sends then holds none).
    const head = new OutgoingMessage().setRaw(bytes, 0, bytes.length);
    head.bits |= MESSAGE_INTERNAL;
    this.sender.enqueue(head);
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
    r.commit(n);
    if (this.state === STATE_CONNECTING) {
      this.parseHead();
    } else if (!(this.bits & AWAITING_READER)) {
      this.parseInput();
    }
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

  /** The peer closed the TCP stream: nothing more arrives. It takes effect behind what is buffered. */
  receiveEof(): void {
    if (this.state === STATE_CONNECTING) {
      this.failHandshake({ error: ERR.HANDSHAKE_EOF, detail: "the server closed the connection before the handshake finished" });
      return;
    }
    this.endInput(null, END_STREAM);
  }

  /** The transport failed (reset, TLS alert...). Behind what is buffered, read() reports `failure`. */
  transportFailed(failure: Failure): void {
    if (this.state === STATE_CONNECTING) {
      this.failHandshake(failure);
      return;
    }
    if (failure.closeCode === undefined) failure.closeCode = CLOSE_ABNORMAL;
    this.endInput(failure, DROP_STREAM);
  }

  /**
   * Parses what is buffered beyond the frame the application just read:
   * the application asks for more (websock_recv, or a callback returned).
   */
  advance(): void {
    // A compressed frame read in place: its next bytes are inflated now, where the last piece was.
    if (this.receiver.inflating) {
      this.parseInput();
      return;
    }
    // Only a frame read to its end leaves bytes unparsed (everything else was parsed as it arrived),
    // and the stream's end waits for the reader to empty the buffer.
    if ((this.bits & AWAITING_READER) === 0 && (this.bits & INPUT_ENDED) === 0) return;
    this.bits &= ~AWAITING_READER;
    if (this.state !== STATE_CONNECTING) this.parseInput();
  }

  /**
   * Copies the next piece of the current frame into out[outStart, outStart + len)
   * (or leaves it in place in rx when `out` is null) and describes it in hdr.
   * Returns the count, NOTHING_READY, or the negative code of `ending` once
   * everything before it was delivered. It only reads.
   */
  read(hdr: websock_msg_hdr_t, out: Uint8Array | null, outStart: number, len: number): number {
    const n = this.receiver.read(hdr, out, outStart, len);
    if (n !== NOTHING_READY) {
      // The frame is read to its end: what follows waits until the application asks again.
      if (this.receiver.betweenFrames) this.bits |= AWAITING_READER;
      // A compressed frame's next bytes are inflated as the window empties (RFC 7692); a piece
      // read in place stays in the window until the application asks for more (advance).
      else if (this.receiver.inflating && out !== null) this.parseInput();
      return n;
    }
    return this.ending !== null && this.state !== STATE_CONNECTING ? this.ending.error.code : NOTHING_READY;
  }

  /** The peer's handshake headers, names as it sent them. */
  peerHeaders(): Array<[string, string]> {
    if (this.peerHeaderText === "") return [];
    return this.peerHeaderText.split("\n").map((line): [string, string] => {
      const colon = line.indexOf(":");
      return [line.slice(0, colon), line.slice(colon + 2)];
    });
  }

  /** Whether read() would return something other than NOTHING_READY. */
  get readable(): boolean {
    return this.receiver.hasPiece() || (this.ending !== null && this.state !== STATE_CONNECTING);
  }

  private parseHead(): void {
    const r = this.receiver;
    const opening = this.opening;
    const head = opening === null ? null : opening.head;
    if (head === null || this.ending !== null) {
      r.start = r.end;
      return;
    }
    r.start += head.feed(r.buf, r.start, r.end);
    if (head.failure !== null) {
      if (this.bits & IS_SERVER) this.refuseUpgrade({ status: 400, reason: head.failure.detail });
      else this.failHandshake(head.failure);
      return;
    }
    if (!head.done) return;
    // The parser, the key's Accept and the offer are done with: only the head's text stays (websock_get_info).
    opening!.head = null;
    this.peerStatus = head.status;
    this.peerHeaderText = head.headers.map(([name, value]) => `${name}: ${value}`).join("\n");
    if (this.bits & IS_SERVER) {
      this.answerUpgrade(head);
    } else {
      const failure = checkResponse(head, opening!.expectedAccept, opening!.offered, this, opening!.deflate);
      if (failure !== null) {
        this.failHandshake(failure);
        return;
      }
      this.becomeOpen();
    }
    // Frames that came in the same segment as the handshake are parsed now, not lost.
    if (this.bits & OPENED) this.parseInput();
  }

  /** Parses up to the next thing the application must read, acting on control frames on the way. */
  private parseInput(): void {
    const r = this.receiver;
    for (;;) {
      const found = r.parse();
      if (found === PARSE_PING) {
        this.onPing(r.controlStart, r.controlEnd);
      } else if (found === PARSE_PONG) {
        this.onPong(r.controlStart, r.controlEnd);
      } else if (found === PARSE_DATA) {
        this.events |= EVENT_READABLE;
        return;
      } else if (found === PARSE_CLOSE) {
        this.onClose(r.closeCode, r.closeReason);
        return;
      } else if (found === PARSE_FAILED) {
        this.fail(r.failure!, r.failureDetail);
        return;
      } else {
        // Everything buffered is parsed (or passes through, in raw mode).
        if (r.hasPiece()) this.events |= EVENT_READABLE;
        else if (this.bits & INPUT_ENDED) this.applyInputEnd();
        return;
      }
    }
  }

  /** The stream's end reaches the reader: everything before it has been delivered. */
  private applyInputEnd(): void {
    if (this.ending === null) {
      if (this.inputFailure !== null) {
        this.ending = this.inputFailure;
      } else {
        // §7.1.5: the close code is 1006 when the connection closed without a close frame.
        const detail = this.receiver.midMessage ? "the stream ended in the middle of a frame or message" : "the stream ended without a close frame";
        this.ending = { error: ERR.CONNECTION_LOST, detail, closeCode: CLOSE_ABNORMAL };
      }
    }
    this.receiver.stop();
    this.events |= EVENT_READABLE;
  }

  /** The stream ended: no more input; nothing more can be written. What is buffered is still parsed and delivered. */
  private endInput(failure: Failure | null, action: number): void {
    if (this.bits & INPUT_ENDED) return;
    this.bits |= INPUT_ENDED;
    this.inputFailure = failure;
    const code = failure !== null ? failure.error.code : ERR.CONNECTION_LOST.code;
    if (this.sender.failAll(code)) this.events |= EVENT_SENT;
    this.stopTimers();
    this.streamAction = action;
    this.becomeClosed();
    if (!(this.bits & AWAITING_READER)) this.parseInput();
  }

  // ---- control frames received ----

  private onPing(start: number, end: number): void {
    // §5.5.2: a pong answers a ping "as soon as is practical", with the same payload.
    if ((this.bits & INPUT_ENDED) !== 0 || this.state === STATE_CLOSED) return;
    this.sender.queuePong(this.receiver.buf, start, end);
    this.events |= EVENT_OUTPUT;
  }

  private onPong(start: number, end: number): void {
    // §5.5.3: an unsolicited pong is not answered; one that echoes our heartbeat proves the peer alive.
    if (this.pongDeadline === Infinity || end - start !== 4) return;
    const payload = this.receiver.buf;
    const c = this.heartbeatCount;
    if (payload[start] !== c >>> 24 || payload[start + 1] !== ((c >> 16) & 0xff) ||
        payload[start + 2] !== ((c >> 8) & 0xff) || payload[start + 3] !== (c & 0xff)) return;
    this.pongDeadline = Infinity;
  }

  private onClose(code: number, reason: string): void {
    this.bits |= CLOSE_RECEIVED;
    this.events |= EVENT_READABLE;
    if (this.ending === null) {
      this.ending = { error: ERR.CLOSED_BY_PEER, detail: `close code ${code}${reason ? ` (${reason})` : ""}`, closeCode: code, closeReason: reason };
    } else if (this.ending.closeCode === undefined) {
      this.ending.closeCode = code;
      this.ending.closeReason = reason;
    }
    // The stream is gone already (the close was read from what was buffered): nothing to answer on.
    if (this.bits & INPUT_ENDED) return;
    if (this.state === STATE_OPEN) {
      // §5.5.1: answer with a close frame echoing the status code received; a
      // message already going out may finish first, the rest is not sent.
      if (this.sender.dropUnstarted(ERR.CLOSED_BY_PEER.code)) this.events |= EVENT_SENT;
      this.sender.queueClose(code === CLOSE_NO_STATUS ? 0 : code, EMPTY, true);
      this.events |= EVENT_OUTPUT;
      this.state = STATE_CLOSING;
      this.stopHeartbeat();
      this.armCloseDeadline();
    } else if (this.state === STATE_CLOSING && !this.sender.closeSent) {
      // Our close waited behind the queue: the peer is done listening, so it goes now.
      if (this.sender.dropUnstarted(ERR.CLOSED_BY_PEER.code)) this.events |= EVENT_SENT;
      this.sender.hurryClose();
      this.events |= EVENT_OUTPUT;
    }
    this.settleClosing();
  }

  // ---- the application's calls ----

  /**
   * Accepts a message for sending, in call order, or refuses it. The rules
   * of RFC 6455 §5.4 (fragments in order, one message at a time) and §8.1
   * (text is UTF-8) are checked here, at the call, not when it goes out.
   */
  send(m: OutgoingMessage): Refusal | null {
    if (this.state !== STATE_OPEN) return { error: ERR.NOT_OPEN, detail: `the connection is ${STATE_NAMES[this.state]}` };
    if (((m.bits & MESSAGE_RAW) !== 0) !== ((this.bits & RAW_MODE) !== 0)) {
      return { error: ERR.INVALID_ARG, detail: (this.bits & RAW_MODE) !== 0 ? "raw mode: send bytes with websock_send_raw" : "websock_send_raw needs raw_mode" };
    }
    if (!(m.bits & MESSAGE_RAW)) {
      const opcode = m.opcode;
      const fin = (m.bits & MESSAGE_FIN) !== 0;
      // §5.4: a message's fragments are continuations of its first frame, in order.
      if (opcode === OPCODE_CONTINUATION && (this.bits & SENDING_FRAGMENTED) === 0) {
        return { error: ERR.INVALID_ARG, detail: "opcode 0 (continuation) with no fragmented message started" };
      }
      if (opcode !== OPCODE_CONTINUATION && (this.bits & SENDING_FRAGMENTED) !== 0) {
        return { error: ERR.INVALID_ARG, detail: "a fragmented message is in progress: continue it with websock_send_frame(h, 0, ...)" };
      }
      const text = opcode === OPCODE_TEXT || (opcode === OPCODE_CONTINUATION && (this.bits & SENDING_TEXT) !== 0);
      if (text && m.bytes !== null) {
        // §8.1: a text frame carries UTF-8; the peer would fail us with 1007.
        const state = utf8Validate(opcode === OPCODE_TEXT ? UTF8_ACCEPT : this.sendUtf8, m.bytes, m.offset, m.offset + m.length);
        if (state === UTF8_REJECT || (fin && state !== UTF8_ACCEPT)) return { error: ERR.INVALID_ARG, detail: "payload is not valid UTF-8" };
        this.sendUtf8 = state;
      } else if (text) {
        // A string always encodes whole characters: a fragment boundary of strings is a character boundary.
        this.sendUtf8 = UTF8_ACCEPT;
      }
      if (opcode !== OPCODE_CONTINUATION) this.bits = text ? this.bits | SENDING_TEXT : this.bits & ~SENDING_TEXT;
      this.bits = fin ? this.bits & ~SENDING_FRAGMENTED : this.bits | SENDING_FRAGMENTED;
      // RFC 7692 §6: a whole message may go compressed; fragments the caller sends one by one go as they are.
      if (this.compressor !== null && fin && opcode !== OPCODE_CONTINUATION) this.compress(m);
    }
    this.sender.enqueue(m);
    return null;
  }

  /** Replaces the message's payload by its compressed form (RSV1 set on its first frame). */
  private compress(m: OutgoingMessage): void {
    const bytes = m.bytes ?? utf8Encode(m.units === m.text!.length ? m.text! : m.text!.slice(0, m.units));
    const start = m.bytes !== null ? m.offset : 0;
    const end = m.bytes !== null ? m.offset + m.length : bytes.length;
    const compressed = this.compressor!.compress(bytes, start, end);
    m.setBytes(m.opcode, true, compressed, 0, compressed.length);
    m.bits |= MESSAGE_COMPRESSED;
  }

  /** A ping (websock_ping), or the application's own pong (auto_pong false): payload bytes[start, end). */
  sendControl(pong: boolean, bytes: Uint8Array, start: number, end: number): Refusal | null {
    if (this.state !== STATE_OPEN) return { error: ERR.NOT_OPEN, detail: `the connection is ${STATE_NAMES[this.state]}` };
    if (this.bits & RAW_MODE) return { error: ERR.INVALID_ARG, detail: "raw mode: there are no frames, so no pings or pongs" };
    // §5.5: all control frames MUST have a payload length of 125 bytes or less.
    if (end - start > MAX_CONTROL_PAYLOAD) return { error: ERR.INVALID_ARG, detail: "a control frame's payload is at most 125 bytes" };
    if (pong) this.sender.queuePong(bytes, start, end);
    else this.sender.queuePing(bytes, start, end);
    return null;
  }

  /**
   * Starts the closing handshake from this side (websock_close), after every
   * message accepted before it. `reason` is UTF-8 bytes, <= 123.
   */
  close(code: number, reason: Uint8Array): void {
    if (this.state !== STATE_OPEN) return;
    if (this.bits & RAW_MODE) {
      // No frames in raw mode: closing is ending the stream once what was accepted is written.
      this.ending = { error: ERR.CLOSED_LOCALLY, detail: "closed by this side (raw mode)" };
      this.streamAction = END_STREAM;
      this.becomeClosed();
      return;
    }
    this.ending = { error: ERR.CLOSED_LOCALLY, detail: `closed by this side with ${code}`, closeCode: code };
    this.sender.queueClose(code, reason, false);
    this.state = STATE_CLOSING;
    this.stopHeartbeat();
    // §7.1.2: after sending close, keep reading until the peer's close; data is discarded,
    // so parsing no longer waits for the application to ask.
    this.receiver.discardDataFrames();
    this.bits &= ~AWAITING_READER;
    this.events |= EVENT_READABLE | EVENT_INPUT;
    this.armCloseDeadline();
    this.parseInput();
  }

  /** Fails the connection from this side (a fault of the application or of websock): sends error.closeCode. */
  abort(error: ErrorRow, detail: string): void {
    if (this.state === STATE_OPEN || this.state === STATE_CLOSING) this.fail(error, detail);
    else if (this.state === STATE_CONNECTING) this.failHandshake({ error, detail });
  }

  /** The handle is let go: every message not sent fails with `code`; nothing more is due. */
  abandon(code: number): void {
    if (this.sender.failAll(code)) this.events |= EVENT_SENT;
    this.receiver.stop();
    this.stopTimers();
  }

  /**
   * The handle is closed for good (after abandon): the fixed buffers, the
   * inflater and the compressor are let go, so a closed handle the application
   * still holds keeps only this object and its small fields.
   */
  release(): void {
    this.receiver.release();
    this.sender.release();
    if (this.compressor !== null) this.compressor = null;
  }

  /** Stops using the stream (websock_detach): no more bytes are parsed; the caller takes what is buffered. */
  detach(): Uint8Array {
    this.receiver.stop();
    this.becomeClosed();
    return this.receiver.leftover();
  }

  /**
   * A fresh connection with `options` (the ones this one was made with, kept
   * by its owner: so the same fixed buffers), for reconnecting: nothing of
   * this one's state carries over (what this one still buffers is given up,
   * so read it first).
   */
  successor(options: ConnectionOptions): Connection {
    const next = new Connection(options);
    if (this.bits & RAW_AFTER_HANDSHAKE) next.setRawMode();
    return next;
  }

  /** Why the connection ended (or is ending), decided before the reader reaches the end. */
  get endFailure(): Failure {
    if (this.ending !== null) return this.ending;
    if (this.inputFailure !== null) return this.inputFailure;
    return { error: ERR.CONNECTION_LOST, detail: "the stream ended without a close frame", closeCode: CLOSE_ABNORMAL };
  }

  /** Whether both close frames have gone by (websock_detach waits for this, not for the stream's end). */
  get closeHandshakeDone(): boolean {
    return this.sender.closeSent && ((this.bits & CLOSE_RECEIVED) !== 0 || this.receiver.stopped);
  }

  // ---- bytes out ----

  /**
   * Fills tx with the next bytes to write and returns how many wait at
   * tx[txStart]; or END_STREAM (all written: end the stream now) or
   * DROP_STREAM (drop it now); 0: nothing to do.
   */
  produce(): number {
    if (this.streamAction === DROP_STREAM) return DROP_STREAM;
    if (this.bits & INPUT_ENDED) return this.streamAction;
    const sender = this.sender;
    const n = sender.produce();
    if (sender.heartbeatWentOut()) {
      // The pong deadline starts when the ping leaves, not when it was queued behind a long frame.
      this.pongDeadline = this.platform.now() + this.pongTimeout;
    }
    if (n > 0) return n;
    this.settleClosing();
    return this.streamAction;
  }

  get tx(): Uint8Array {
    return this.sender.buf;
  }

  get txStart(): number {
    return this.sender.head;
  }

  /** The transport took `n` bytes from tx[txStart]. */
  written(n: number): void {
    if (n > 0 && this.stallDeadline !== Infinity) this.stallDeadline = Infinity;
    if (this.sender.written(n)) this.events |= EVENT_SENT;
  }

  /** The transport took less than it was given: a send waits (bounded by sendTimeout). */
  blocked(): void {
    const timeout = this.sendTimeout;
    if (timeout > 0 && this.stallDeadline === Infinity) this.stallDeadline = this.platform.now() + timeout;
  }

  // ---- time ----

  /** The time (host clock, ms) at which tick() must be called; Infinity for never. */
  nextDeadline(): number {
    let at = this.opening === null ? Infinity : this.opening.deadline;
    if (this.nextPingAt < at) at = this.nextPingAt;
    if (this.pongDeadline < at) at = this.pongDeadline;
    if (this.closeDeadline < at) at = this.closeDeadline;
    if (this.stallDeadline < at) at = this.stallDeadline;
    return at;
  }

  tick(): void {
    const now = this.platform.now();
    const opening = this.opening;
    if (opening !== null && now >= opening.deadline) {
      const inTls = opening.phase === "in the TLS handshake";
      this.failHandshake({
        error: ERR.TIMEOUT,
        detail: `not open after ${opening.timeout} ms (${opening.phase})`,
        tlsReason: inTls ? TLS_REASON.HANDSHAKE_TIMEOUT : undefined,
      });
      return;
    }
    if (now >= this.closeDeadline) {
      this.drop({ error: ERR.CLOSE_TIMEOUT, detail: ERR.CLOSE_TIMEOUT.message });
      return;
    }
    if (now >= this.stallDeadline) {
      this.drop({ error: ERR.SEND_TIMEOUT, detail: `no byte could be written for ${this.sendTimeout} ms`, closeCode: CLOSE_ABNORMAL });
      return;
    }
    if (now >= this.pongDeadline) {
      // A dead peer cannot answer a close frame either: drop the connection (1006).
      this.drop({ error: ERR.PONG_TIMEOUT, detail: `none within ${this.pongTimeout} ms`, closeCode: CLOSE_ABNORMAL });
      return;
    }
    if (now >= this.nextPingAt && this.state === STATE_OPEN) {
      this.nextPingAt = now + this.pingInterval;
      // One heartbeat at a time: a new ping must not push back the deadline of the one unanswered.
      if (this.pongDeadline !== Infinity) return;
      this.heartbeatCount = (this.heartbeatCount + 1) >>> 0;
      this.sender.queueHeartbeat(this.heartbeatCount);
      this.events |= EVENT_OUTPUT;
    }
  }

  // ---- internals ----

  private becomeOpen(): void {
    const deflate = this.deflate;
    if (deflate !== null) {
      // The window and the tables, sized by what the server agreed to: allocated once, here.
      const offer = this.opening!.deflate!;
      this.receiver.enableInflate(new MessageInflater(deflate.serverMaxWindowBits, deflate.serverNoContextTakeover, offer.maxInflatedMessage));
      const makeCompressor = this.platform.deflate;
      if (offer.compress && makeCompressor) this.compressor = makeCompressor(deflate.clientMaxWindowBits);
    }
    this.state = STATE_OPEN;
    this.bits |= OPENED;
    this.opening = null;
    this.events |= EVENT_OPENED;
    if (this.bits & RAW_AFTER_HANDSHAKE) this.enterRawMode();
    else if (this.pingInterval > 0) this.nextPingAt = this.platform.now() + this.pingInterval;
  }

  private becomeClosed(): void {
    if (this.state === STATE_CLOSED) return;
    this.state = STATE_CLOSED;
    this.events |= EVENT_CLOSED | EVENT_READABLE;
  }

  private enterRawMode(): void {
    this.bits |= RAW_MODE;
    this.stopHeartbeat();
    this.receiver.passThrough();
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
    const chosen = this.opening!.offered.find((p) => checked.subprotocols.includes(p));
    if (chosen !== undefined) this.subprotocol = chosen;
    this.queueHead(buildAcceptResponse(acceptFor(checked.key, this.platform.sha1), this.subprotocol));
    this.becomeOpen();
  }

  private refuseUpgrade(refusal: { status: 400 | 426; reason: string }): void {
    this.queueHead(buildRefusal(refusal));
    this.ending = { error: ERR.BAD_REQUEST, detail: refusal.reason, httpStatus: refusal.status };
    this.receiver.stop();
    this.opening = null;
    // The refusal is written first: a graceful end waits for it, at most close_timeout.
    this.armCloseDeadline();
    this.streamAction = END_STREAM;
    this.becomeClosed();
  }

  private failHandshake(failure: Failure): void {
    if (this.ending === null) this.ending = failure;
    this.receiver.stop();
    this.opening = null;
    if (this.sender.failAll(failure.error.code)) this.events |= EVENT_SENT;
    this.streamAction = DROP_STREAM;
    this.becomeClosed();
  }

  /** Drops the connection from this side at once (a timeout); read() reports `failure` (or the close that came first). */
  private drop(failure: Failure): void {
    if (this.state === STATE_CONNECTING) {
      this.failHandshake(failure);
      return;
    }
    if (this.ending === null) {
      this.ending = failure;
    } else if (this.ending.error === ERR.CLOSED_LOCALLY) {
      // Our close went unanswered (or never left): say so, with the code we sent.
      this.ending = { ...failure, closeCode: this.ending.closeCode };
    }
    this.receiver.stop();
    this.endInput(failure, DROP_STREAM);
  }

  /** §7.1.7 Fail the WebSocket Connection: send the close code, stop processing input. */
  private fail(error: ErrorRow, detail: string): void {
    if (this.ending === null || this.ending.error === ERR.CLOSED_LOCALLY) {
      this.ending = { error, detail, closeCode: error.closeCode };
    }
    this.receiver.stop();
    this.events |= EVENT_READABLE;
    if (this.bits & INPUT_ENDED) return;
    if (!this.sender.closeSent) {
      if (this.sender.dropUnstarted(error.code)) this.events |= EVENT_SENT;
      this.sender.queueClose(error.closeCode, EMPTY, true);
      this.events |= EVENT_OUTPUT;
      this.state = STATE_CLOSING;
      this.stopHeartbeat();
      this.armCloseDeadline();
    } else {
      // Already closing: the peer broke the protocol while we waited for its close.
      this.streamAction = END_STREAM;
      this.becomeClosed();
    }
    this.settleClosing();
  }

  /**
   * Once our close frame is out and the peer's close arrived (or we failed),
   * the protocol is done; the client then waits for the server to end TCP
   * (§7.1.1), bounded by closeDeadline.
   */
  private settleClosing(): void {
    if (this.state !== STATE_CLOSING || !this.sender.closeSent || this.sender.tail > this.sender.head) return;
    if ((this.bits & CLOSE_RECEIVED) !== 0 || this.receiver.stopped) {
      // §7.1.1: the server closes the TCP connection first; the client waits for it.
      if (this.bits & IS_SERVER) this.streamAction = END_STREAM;
      this.becomeClosed();
    }
  }

  private armCloseDeadline(): void {
    if (this.closeDeadline === Infinity) this.closeDeadline = this.platform.now() + this.closeTimeout;
  }

  private stopHeartbeat(): void {
    this.nextPingAt = Infinity;
    this.pongDeadline = Infinity;
  }

  private stopTimers(): void {
    this.stopHeartbeat();
    this.opening = null;
    this.closeDeadline = Infinity;
    this.stallDeadline = Infinity;
  }
}
defineColdFields(Connection.prototype, {
  ending: null,
  pingInterval: 0,
  sendTimeout: 0,
  subprotocol: "",
  deflate: null,
  compressor: null,
  peerStatus: 0,
  peerHeaderText: "",
  request: null,
  sendUtf8: UTF8_ACCEPT,
  inputFailure: null,
  streamAction: 0,
  nextPingAt: Infinity,
  pongDeadline: Infinity,
  closeDeadline: Infinity,
  stallDeadline: Infinity,
  heartbeatCount: 0,
});
