// The receive framer: RFC 6455 §5 frames parsed in place in one fixed buffer.
//
// Bytes go into `buf` at `end` (the host copies them there) and leave it at
// `start`. parse() walks the header a state at a time (the first two bytes,
// a 16-bit or 64-bit length, the mask key) and says by its return value what
// it stopped at: more bytes are needed, a data payload waits to be read, a
// control frame was taken, or the input broke the protocol. A data frame's
// payload stays in the buffer until the caller copies it out with read(),
// piece by piece, so a frame of any length streams through a buffer of any
// size without an allocation. While the caller has not read a payload,
// parsing waits behind it and the buffer fills: that is the backpressure the
// host sees as "no space".
//
// read() only reads. It never parses what follows, so it never answers a
// ping or ends the connection: the owner (Connection) parses when bytes
// arrive and when the caller asks for more, and acts on what parse() found.
// Whatever arrived before a violation or a close is delivered first, because
// parsing never runs ahead of a payload the caller has not read.
//
// Lengths are JS numbers: exact up to 2^53 bytes. A 64-bit length above that
// (up to 2^63-1) is accepted and streams through: offset stays exact, while
// payload_len and bytesleft are the nearest doubles.

import { CLOSE_NO_STATUS, ERR, type ErrorRow } from "./errors.js";
import {
  MAX_CONTROL_PAYLOAD,
  OPCODE_CLOSE,
  OPCODE_CONTINUATION,
  OPCODE_PING,
  OPCODE_PONG,
  OPCODE_TEXT,
  isControlOpcode,
  isKnownOpcode,
  isValidCloseCode,
} from "./opcodes.js";
import { UTF8_ACCEPT, UTF8_REJECT, utf8Decode, utf8Validate } from "./utf8.js";
import { maskInPlace, readMaskKey } from "./mask.js";
import type { websock_msg_hdr_t } from "./types.js";
import type { MessageInflater } from "./message-inflater.js";
import { defineColdFields } from "./cold-fields.js";

const EMPTY = new Uint8Array(0);

/** What read() returns when no piece is ready (not an error: call again). */
export const NOTHING_READY = -0x10000;

/** The rx buffer must hold a whole control frame and its header, with room to spare. */
export const MIN_RX_BUFFER = 256;

// What parse() stopped at.
/** Every byte received was parsed; more are needed to go on. */
export const PARSE_NEED_MORE = 0;
/** A data frame's payload (or a delivered ping) waits for the caller to read it. */
export const PARSE_DATA = 1;
/** A ping was taken (auto pong): controlStart/controlEnd hold its payload until the next parse. */
export const PARSE_PING = 2;
/** A pong was taken: controlStart/controlEnd hold its payload until the next parse. */
export const PARSE_PONG = 3;
/** A valid close frame was taken (closeCode, closeReason); parsing has stopped for good. */
export const PARSE_CLOSE = 4;
/** The input broke the protocol (failure says how); parsing has stopped for good. */
export const PARSE_FAILED = -1;
/** Parsing has stopped (after a close or a failure) or the receiver passes bytes through. */
export const PARSE_STOPPED = -2;

// Receive states, named after what they wait for.
const WAIT_HEADER = 0; // the first two bytes of a frame header
const WAIT_LENGTH_16 = 1; // the 16-bit extended payload length
const WAIT_LENGTH_64 = 2; // the 64-bit extended payload length
const WAIT_MASK_KEY = 3; // the 4-byte masking key
const WAIT_CONTROL = 4; // a control frame's whole payload (acted on whole)
const WAIT_READ = 5; // the caller to read the current data frame's payload
const STOPPED = 6; // a close frame arrived or the connection failed: input is ignored
const PASS_THROUGH = 7; // raw mode: the caller to read whatever bytes came

/** hdr.opcode of a raw-mode piece: bytes as they came off the stream, not a frame. */
export const OPCODE_RAW = 0x10;

export interface ReceiverOptions {
  /** Client: frames from the server must not be masked. Server: they must be. */
  expectMasked: boolean;
  /** Deliver pings through read() instead of reporting them as PARSE_PING. */
  deliverPings: boolean;
  /** Fail messages longer than this with 1009; 0: no limit. */
  maxMessageSize: number;
  /** The words of buf's ArrayBuffer (mask.ts wordsOf), shared with the sender's when both buffers are in one. */
  words: Uint32Array;
}

// The flags of a Receiver: bits of its one `bits` field (on XS one slot for all of them).
/** The last piece is in the inflate window, not in `buf` (see pieceBuffer). */
const PIECE_IN_WINDOW = 1;
/** The frame being parsed or delivered: its FIN bit, and whether it is masked. */
const FIN = 2;
const MASKED = 4;
/** The caller has seen this frame's header (matters for empty frames). */
const ANNOUNCED = 8;
/** Data payload is thrown away unread (after this side started closing); DISCARDING: this frame's. */
const DISCARD_DATA = 16;
const DISCARDING = 32;
/** The message the frames belong to: more frames follow, and it is text. */
const IN_FRAGMENTED_MESSAGE = 64;
const MESSAGE_IS_TEXT = 128;
/** The current message is compressed (its first frame had RSV1): read() gives inflated bytes. */
const COMPRESSED = 256;
/** The frame being parsed has RSV1 set. */
const RSV1 = 512;
/** ReceiverOptions, copied: frames must be masked (a server's), and pings are delivered. */
const EXPECT_MASKED = 1024;
const DELIVER_PINGS = 2048;

export class Receiver {
  /** The flags above the class, as bits. */
  bits = 0;
  /** The fixed rx buffer; the host copies arriving bytes into buf[end, buf.length). */
  buf: Uint8Array;
  /** buf's ArrayBuffer as 32-bit words (mask.ts), made once, to unmask and skip ASCII a word at a time (null once released). */
  private words: Uint32Array | null;
  /** First byte not consumed yet. */
  start = 0;
  /** End of the bytes received. */
  end = 0;

  private state = WAIT_HEADER;
  /** 0 (no limit) unless configured: cold. */
  private declare readonly maxMessageSize: number;

  // The frame being parsed or delivered.
  private opcode = 0;
  private payloadLen = 0;
  private remaining = 0;
  /** Payload bytes of this frame already read: kept apart so offset is exact even where remaining rounds. */
  private delivered = 0;
  /** A masked frame's key and where in it the next byte is (cold: a client receives no masked frame). */
  private declare maskKey: number;
  private declare maskPhase: number;
  /** buf[start, checked) holds payload already unmasked and UTF-8 validated. */
  private checked = 0;

  // The message the frames belong to.
  private messageBytes = 0;
  private utf8State = UTF8_ACCEPT;

  // Cold fields (cold-fields.ts), written only when a control frame, a close or a failure comes.
  /** After PARSE_PING / PARSE_PONG: the control payload, buf[controlStart, controlEnd), valid until the next parse. */
  declare controlStart: number;
  declare controlEnd: number;
  /** After PARSE_CLOSE: the status code (1005 when none) and the reason. */
  declare closeCode: number;
  declare closeReason: string;
  /** After PARSE_FAILED: why, and in detail. */
  declare failure: ErrorRow | null;
  declare failureDetail: string;
  /** Where in `buf` the last piece read() gave began: with `out` null, the piece is read in place. */
  pieceStart = 0;

  // permessage-deflate (RFC 7692), once negotiated: null until then (cold).
  private declare inflate: MessageInflater | null;
  /** Inflated bytes handed out in place (the window's): they stay until the next read or parse. */
  private declare heldInPlace: number;

  /** `buf` is the caller's fixed rx buffer (at least MIN_RX_BUFFER bytes); it is replaced only by release(), when the handle is closed. */
  constructor(buf: Uint8Array, options: ReceiverOptions) {
    this.buf = buf;
    this.words = options.words;
    // The options are copied, not kept: an object of its own costs slots on XS, its values are flags here.
    this.bits = (options.expectMasked ? EXPECT_MASKED : 0) | (options.deliverPings ? DELIVER_PINGS : 0);
    if (options.maxMessageSize > 0) this.maxMessageSize = options.maxMessageSize;
  }

  /** The buffer the last piece read() gave is in: `buf`, or the inflate window for a compressed message (valid until the next read). */
  get pieceBuffer(): Uint8Array {
    return (this.bits & PIECE_IN_WINDOW) !== 0 ? this.inflate!.inflater.window : this.buf;
  }

  /** permessage-deflate was agreed: RSV1 marks compressed messages, inflated by `inflate`. */
  enableInflate(inflate: MessageInflater): void {
    this.inflate = inflate;
  }

  /** The handle is closed: lets go of the buffer and the inflater (a closed handle the application still holds keeps nothing big). */
  release(): void {
    this.state = STOPPED;
    this.buf = EMPTY;
    this.words = null;
    this.start = this.end = this.checked = 0;
    if (this.inflate !== null) this.inflate = null;
    this.bits &= ~PIECE_IN_WINDOW;
  }

  /** Whether the current frame is a compressed one whose bytes are still being inflated (its owner parses after each read). */
  get inflating(): boolean {
    return (this.bits & COMPRESSED) !== 0 && this.state === WAIT_READ && (this.bits & DISCARDING) === 0;
  }

  get stopped(): boolean {
    return this.state === STOPPED;
  }

  /** Whether the last frame was read to its end and the next header is not parsed yet. */
  get betweenFrames(): boolean {
    return this.state === WAIT_HEADER;
  }

  /**
   * Makes room at the end of the buffer and returns how many bytes fit there.
   * Once stopped, what follows the last frame is kept while it fits (websock_detach
   * hands it back), then dropped: the input is drained and ignored.
   */
  prepareSpace(): number {
    if (this.start === this.end) {
      this.start = this.end = this.checked = 0;
    } else if (this.end === this.buf.length) {
      if (this.start > 0) {
        // Only compact when the tail is full: most reads empty the buffer and reset it above.
        this.buf.copyWithin(0, this.start, this.end);
        this.checked -= this.start;
        this.end -= this.start;
        this.start = 0;
      } else if (this.state === STOPPED) {
        this.start = this.end = this.checked = 0;
      }
    }
    return this.buf.length - this.end;
  }

  /** The bytes after the last frame taken, once stopped (websock_detach gives them back). */
  leftover(): Uint8Array {
    return this.buf.slice(this.start, this.end);
  }

  /** Counts `n` bytes the host copied to buf[end, end + n). */
  commit(n: number): void {
    this.end += n;
  }

  /** From now on, data frames are consumed without being delivered (RFC 6455 §7.1.2: wait for the close). */
  discardDataFrames(): void {
    this.bits |= DISCARD_DATA;
    if (this.state === WAIT_READ && isDataOpcode(this.opcode)) this.bits |= DISCARDING;
  }

  /** Raw mode: from now on every byte is delivered as it is, unframed. */
  passThrough(): void {
    this.state = PASS_THROUGH;
  }

  /** Stops parsing for good (the connection failed, or this side gave up on it). */
  stop(): void {
    this.state = STOPPED;
  }

  /**
   * Parses what has arrived, up to the next thing someone must act on, and
   * says what that is (PARSE_*). Call it again after acting on a control
   * frame; after PARSE_DATA, once the caller has read the payload.
   */
  parse(): number {
    this.releaseInPlace();
    for (;;) {
      switch (this.state) {
        case WAIT_HEADER: {
          const r = this.parseFirstBytes();
          if (r !== PARSE_DATA) return r;
          break;
        }
        case WAIT_LENGTH_16: {
          if (this.end - this.start < 2) return PARSE_NEED_MORE;
          const length = (this.buf[this.start] << 8) | this.buf[this.start + 1];
          this.start += 2;
          // §5.2: "the minimal number of bytes MUST be used to encode the length".
          if (length < 126) return this.fail(ERR.NON_MINIMAL_LENGTH);
          const r = this.lengthKnown(length);
          if (r !== PARSE_DATA) return r;
          break;
        }
        case WAIT_LENGTH_64: {
          if (this.end - this.start < 8) return PARSE_NEED_MORE;
          const high = readUint32(this.buf, this.start);
          // §5.2: "the most significant bit MUST be 0". Read as two 32-bit words: no shift reaches 32.
          if (high >= 0x80000000) return this.fail(ERR.LENGTH_TOO_LARGE);
          const length = high * 0x100000000 + readUint32(this.buf, this.start + 4);
          this.start += 8;
          if (length < 0x10000) return this.fail(ERR.NON_MINIMAL_LENGTH);
          const r = this.lengthKnown(length);
          if (r !== PARSE_DATA) return r;
          break;
        }
        case WAIT_MASK_KEY: {
          if (this.end - this.start < 4) return PARSE_NEED_MORE;
          this.maskKey = readMaskKey(this.buf, this.start);
          this.start += 4;
          this.headerDone();
          break;
        }
        case WAIT_CONTROL: {
          // A control frame is acted on whole; MIN_RX_BUFFER guarantees it fits.
          if (this.end - this.start < this.payloadLen) return PARSE_NEED_MORE;
          return this.takeControlFrame();
        }
        case WAIT_READ: {
          const r = this.checkPayload();
          if (r !== PARSE_NEED_MORE) return r;
          if (this.state === WAIT_READ) return this.hasPiece() ? PARSE_DATA : PARSE_NEED_MORE;
          break;
        }
        default:
          return PARSE_STOPPED;
      }
    }
  }

  /**
   * Copies the next piece of the current frame (at most `len` bytes) to
   * out[outStart...] (or leaves it in place when `out` is null: buf[pieceStart, +n))
   * and describes it in `hdr`. Returns the byte count, or NOTHING_READY when
   * no piece is ready. It parses nothing: after the last piece of a frame,
   * the next frame waits for the owner's next parse().
   */
  read(hdr: websock_msg_hdr_t, out: Uint8Array | null, outStart: number, len: number): number {
    if (this.state === PASS_THROUGH) return this.readRaw(hdr, out, outStart, len);
    if (!this.hasPiece()) return NOTHING_READY;
    if (this.inflating) return this.readInflated(hdr, out, outStart, len);
    const ready = this.checked - this.start;
    const n = ready < len ? ready : len;
    // The header first: if the caller's hdr refuses a write, nothing has moved yet.
    hdr.fin = (this.bits & FIN) !== 0;
    hdr.opcode = this.opcode;
    hdr.payload_len = this.payloadLen;
    hdr.offset = this.delivered;
    hdr.bytesleft = this.remaining - n;
    this.bits &= ~PIECE_IN_WINDOW;
    this.pieceStart = this.start;
    if (n > 0 && out !== null) out.set(this.view(this.start, n), outStart);
    this.delivered += n;
    this.remaining -= n;
    this.start += n;
    this.bits |= ANNOUNCED;
    if (this.remaining === 0) this.finishFrame();
    return n;
  }

  /**
   * A piece of a compressed frame: inflated bytes from the window. The
   * inflated length is known only at the frame's end, so until its last
   * piece bytesleft is what is inflated and waiting, at least 1, and
   * payload_len is offset + n + bytesleft; the last piece has bytesleft 0
   * and payload_len the frame's whole inflated length (it may be empty).
   */
  private readInflated(hdr: websock_msg_hdr_t, out: Uint8Array | null, outStart: number, len: number): number {
    this.releaseInPlace();
    const inflate = this.inflate!;
    const inflater = inflate.inflater;
    const ready = out === null ? inflater.contiguous() : inflater.pending;
    const n = ready < len ? ready : len;
    const left = inflater.pending - n;
    const last = left === 0 && inflate.frameDone;
    const bytesleft = last ? 0 : left > 0 ? left : 1;
    hdr.fin = (this.bits & FIN) !== 0;
    hdr.opcode = this.opcode;
    hdr.payload_len = this.delivered + n + bytesleft;
    hdr.offset = this.delivered;
    hdr.bytesleft = bytesleft;
    this.bits |= PIECE_IN_WINDOW;
    this.pieceStart = inflater.contiguousStart;
    // In place, the bytes stay in the window (not overwritten) until the next read or parse.
    if (out !== null) inflater.take(out, outStart, n);
    else this.heldInPlace = n;
    this.delivered += n;
    this.bits |= ANNOUNCED;
    if (last) this.finishFrame();
    return n;
  }

  /** The window's bytes of the last in-place piece may now be overwritten. */
  private releaseInPlace(): void {
    if (this.heldInPlace === 0) return;
    this.inflate!.inflater.consume(this.heldInPlace);
    this.heldInPlace = 0;
  }

  private readRaw(hdr: websock_msg_hdr_t, out: Uint8Array | null, outStart: number, len: number): number {
    const ready = this.end - this.start;
    if (ready === 0) return NOTHING_READY;
    const n = ready < len ? ready : len;
    hdr.fin = false;
    hdr.opcode = OPCODE_RAW;
    hdr.payload_len = n;
    hdr.offset = 0;
    hdr.bytesleft = 0;
    this.pieceStart = this.start;
    if (out !== null) out.set(this.view(this.start, n), outStart);
    this.start += n;
    return n;
  }

  /**
   * buf[start, start + n) as a view for set(), made with the constructor over
   * the buffer's ArrayBuffer (kept at construction), not with subarray(): that
   * looks up the species constructor first and costs about a third more per
   * piece in V8.
   */
  private view(start: number, n: number): Uint8Array {
    // The whole buffer is itself: no view made (garbage on XS, 4 slots).
    if (start === 0 && n === this.buf.length) return this.buf;
    const buf = this.buf;
    return new Uint8Array(buf.buffer, buf.byteOffset + start, n);
  }

  /** Whether read() has a piece to give. */
  hasPiece(): boolean {
    if (this.state === PASS_THROUGH) return this.end > this.start;
    if (this.state !== WAIT_READ || (this.bits & DISCARDING) !== 0) return false;
    if (this.bits & COMPRESSED) return this.inflate!.pending > this.heldInPlace || (this.inflate!.frameDone && this.heldInPlace === 0);
    return this.checked > this.start || (this.remaining === 0 && (this.bits & ANNOUNCED) === 0);
  }

  /** Whether the stream ended inside a frame or a fragmented message. */
  get midMessage(): boolean {
    return (this.state !== WAIT_HEADER && this.state !== STOPPED && this.state !== PASS_THROUGH) ||
      (this.bits & IN_FRAGMENTED_MESSAGE) !== 0 || this.end > this.start;
  }

  /** The first two header bytes: every check that needs no more than them, in the order ws makes them. */
  private parseFirstBytes(): number {
    const buf = this.buf;
    const s = this.start;
    if (this.end - s < 2) return PARSE_NEED_MORE;
    const b0 = buf[s];
    const b1 = buf[s + 1];
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    const length = b1 & 0x7f;

    // §5.2: "RSV1, RSV2, RSV3: MUST be 0 unless an extension is negotiated."
    // RFC 7692 §6: permessage-deflate gives RSV1 its meaning, "Per-Message Compressed".
    const rsv = b0 & 0x70;
    if (rsv !== 0 && (rsv !== 0x40 || this.inflate === null)) return this.fail(ERR.RSV_BITS);
    // §5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail_."
    if (!isKnownOpcode(opcode)) return this.fail(ERR.RESERVED_OPCODE);
    // RFC 7692 §6.1: RSV1 is set on "the first frame of the message" only; and
    // §6: "An endpoint MUST NOT set the "Per-Message Compressed" bit of control frames".
    if (rsv !== 0 && (opcode === OPCODE_CONTINUATION || isControlOpcode(opcode))) return this.fail(ERR.DEFLATE_RSV1);
    if (isControlOpcode(opcode)) {
      // §5.5: "All control frames MUST have a payload length of 125 bytes or less
      // and MUST NOT be fragmented."
      if (!fin) return this.fail(ERR.CONTROL_FRAGMENTED);
      if (length > MAX_CONTROL_PAYLOAD) return this.fail(ERR.CONTROL_TOO_LONG);
    } else if (opcode === OPCODE_CONTINUATION) {
      if (!(this.bits & IN_FRAGMENTED_MESSAGE)) return this.fail(ERR.UNEXPECTED_CONTINUATION);
    } else if (this.bits & IN_FRAGMENTED_MESSAGE) {
      // §5.4: the fragments of one message are not interleaved with another message.
      return this.fail(ERR.EXPECTED_CONTINUATION);
    }
    // §5.1: "A client MUST close a connection if it detects a masked frame"; a server, an unmasked one.
    if (masked !== ((this.bits & EXPECT_MASKED) !== 0)) return this.fail(masked ? ERR.MASKED_FRAME : ERR.UNMASKED_FRAME);

    this.start = s + 2;
    // This frame's header bits, in place of the last frame's.
    this.bits = (this.bits & ~(RSV1 | FIN | MASKED)) | (rsv !== 0 ? RSV1 : 0) | (fin ? FIN : 0) | (masked ? MASKED : 0);
    this.opcode = opcode;
    if (length === 126) {
      this.state = WAIT_LENGTH_16;
      return PARSE_DATA;
    }
    if (length === 127) {
      this.state = WAIT_LENGTH_64;
      return PARSE_DATA;
    }
    return this.lengthKnown(length);
  }

  /** The payload length is known: check the message limit, then wait for the mask key or the payload. PARSE_DATA: go on. */
  private lengthKnown(length: number): number {
    if (isDataOpcode(this.opcode) && this.maxMessageSize > 0 && (this.bits & DISCARD_DATA) === 0) {
      const before = this.opcode === OPCODE_CONTINUATION ? this.messageBytes : 0;
      if (before + length > this.maxMessageSize) return this.fail(ERR.MESSAGE_TOO_BIG);
    }
    this.payloadLen = length;
    if (this.bits & MASKED) this.state = WAIT_MASK_KEY;
    else this.headerDone();
    return PARSE_DATA;
  }

  /** The whole header is in: set the frame up for its payload. */
  private headerDone(): void {
    const opcode = this.opcode;
    this.remaining = this.payloadLen;
    this.delivered = 0;
    // The flags are worked out in a local and written once (parseFirstBytes set FIN, MASKED, RSV1).
    let bits = this.bits & ~ANNOUNCED;
    if (bits & MASKED) this.maskPhase = 0;
    this.checked = this.start;
    if (isControlOpcode(opcode)) {
      this.bits = bits;
      this.state = WAIT_CONTROL;
      return;
    }
    if (opcode !== OPCODE_CONTINUATION) {
      // A new message: its type, and (RFC 7692 §6.1) compressed when its first frame has RSV1.
      bits &= ~(MESSAGE_IS_TEXT | COMPRESSED);
      if (opcode === OPCODE_TEXT) bits |= MESSAGE_IS_TEXT;
      if (bits & RSV1) bits |= COMPRESSED;
      this.utf8State = UTF8_ACCEPT;
      this.messageBytes = 0;
      if (bits & COMPRESSED) this.inflate!.startMessage((bits & MESSAGE_IS_TEXT) !== 0);
    }
    if (bits & COMPRESSED) this.inflate!.startFrame();
    bits &= ~(IN_FRAGMENTED_MESSAGE | DISCARDING);
    if ((bits & FIN) === 0) bits |= IN_FRAGMENTED_MESSAGE;
    if (bits & DISCARD_DATA) bits |= DISCARDING;
    this.bits = bits;
    this.messageBytes += this.payloadLen;
    this.state = WAIT_READ;
  }

  /**
   * Unmasks and validates the current frame's newly arrived payload.
   * Returns PARSE_FAILED, or PARSE_NEED_MORE (with the state moved on to the
   * next header when a discarded or fully read frame is finished).
   */
  private checkPayload(): number {
    const inBuffer = this.end - this.start;
    const available = this.remaining < inBuffer ? this.remaining : inBuffer;
    const limit = this.start + available;
    const compressed = (this.bits & COMPRESSED) !== 0 && isDataOpcode(this.opcode) && (this.bits & DISCARDING) === 0;
    // A compressed message's text is validated once inflated (message-inflater.ts).
    const text = (this.bits & MESSAGE_IS_TEXT) !== 0 && isDataOpcode(this.opcode) && (this.bits & DISCARDING) === 0 && !compressed;
    if (this.checked < limit) {
      if (this.bits & MASKED) this.maskPhase = maskInPlace(this.buf, this.checked, limit, this.maskKey, this.maskPhase, this.words);
      if (text) {
        this.utf8State = utf8Validate(this.utf8State, this.buf, this.checked, limit, this.words);
        // RFC 6455 §8.1: fail as soon as the bytes are not valid UTF-8.
        if (this.utf8State === UTF8_REJECT) return this.fail(ERR.INVALID_UTF8);
      }
      this.checked = limit;
    }
    // The message ended in the middle of a character.
    if (text && (this.bits & FIN) !== 0 && available === this.remaining && this.utf8State !== UTF8_ACCEPT) return this.fail(ERR.INVALID_UTF8);
    if (compressed) return this.inflatePayload(limit);
    if (this.bits & DISCARDING) {
      this.remaining -= available;
      this.start += available;
      if (this.remaining === 0) this.finishFrame();
    }
    return PARSE_NEED_MORE;
  }

  /**
   * Inflates the compressed payload that has arrived, buf[start, limit), as
   * far as the inflate window has room; the bytes used leave the rx buffer.
   */
  private inflatePayload(limit: number): number {
    const inflate = this.inflate!;
    if (inflate.frameDone) return PARSE_NEED_MORE;
    const ok = inflate.run(this.buf, this.start, limit, limit - this.start === this.remaining, (this.bits & FIN) !== 0);
    this.start += inflate.consumed;
    this.remaining -= inflate.consumed;
    if (!ok) return this.fail(inflate.failure!, inflate.detail);
    return PARSE_NEED_MORE;
  }

  private finishFrame(): void {
    if (isDataOpcode(this.opcode) && (this.bits & FIN) !== 0) {
      this.messageBytes = 0;
      this.utf8State = UTF8_ACCEPT;
      this.bits &= ~COMPRESSED;
    }
    this.state = WAIT_HEADER;
    this.bits &= ~(DISCARDING | ANNOUNCED);
    if (this.start === this.end) this.start = this.end = this.checked = 0;
  }

  private takeControlFrame(): number {
    const opcode = this.opcode;
    const s = this.start;
    const e = s + this.payloadLen;
    if (this.bits & MASKED) maskInPlace(this.buf, s, e, this.maskKey, 0, this.words);
    if (opcode === OPCODE_PING && (this.bits & DELIVER_PINGS) !== 0) {
      // Delivered through read() like a data frame; it is already unmasked.
      this.bits &= ~MASKED;
      this.checked = e;
      this.state = WAIT_READ;
      return PARSE_DATA;
    }
    this.start = e;
    this.remaining = 0;
    this.state = WAIT_HEADER;
    if (opcode === OPCODE_CLOSE) return this.takeClose(s, e);
    // The payload stays where it is until the next parse(): nothing can overwrite it before then.
    this.controlStart = s;
    this.controlEnd = e;
    return opcode === OPCODE_PING ? PARSE_PING : PARSE_PONG;
  }

  private takeClose(s: number, e: number): number {
    const length = e - s;
    // §5.5.1: a close payload, if any, starts with a 2-byte status code.
    if (length === 1) return this.fail(ERR.BAD_CLOSE_PAYLOAD);
    let code = CLOSE_NO_STATUS;
    let reason = "";
    if (length >= 2) {
      code = (this.buf[s] << 8) | this.buf[s + 1];
      if (!isValidCloseCode(code)) return this.fail(ERR.BAD_CLOSE_CODE);
      // §5.5.1: the reason is UTF-8; §8.1 applies to it as to text.
      if (utf8Validate(UTF8_ACCEPT, this.buf, s + 2, e) !== UTF8_ACCEPT) return this.fail(ERR.INVALID_UTF8);
      reason = utf8Decode(this.buf, s + 2, e);
    }
    // §5.5.1: nothing after a close frame is processed.
    this.state = STOPPED;
    this.closeCode = code;
    this.closeReason = reason;
    return PARSE_CLOSE;
  }

  private fail(error: ErrorRow, detail = error.message): number {
    this.state = STOPPED;
    this.failure = error;
    this.failureDetail = detail;
    return PARSE_FAILED;
  }
}
defineColdFields(Receiver.prototype, {
  maxMessageSize: 0,
  maskKey: 0,
  maskPhase: 0,
  controlStart: 0,
  controlEnd: 0,
  closeCode: 0,
  closeReason: "",
  failure: null,
  failureDetail: "",
  inflate: null,
  heldInPlace: 0,
});

function isDataOpcode(opcode: number): boolean {
  return opcode < OPCODE_CLOSE;
}

function readUint32(buf: Uint8Array, i: number): number {
  return buf[i] * 0x1000000 + ((buf[i + 1] << 16) | (buf[i + 2] << 8) | buf[i + 3]);
}
