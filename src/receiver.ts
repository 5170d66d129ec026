// The receive framer: RFC 6455 §5 frames parsed in place in one fixed buffer.
//
// Bytes go into `buf` at `end` (the host copies them there) and leave it at
// `start`. Headers and control frames are consumed as soon as they are whole;
// a data frame's payload stays in the buffer until the caller copies it out
// with read(), piece by piece, so a frame of any length streams through a
// buffer of any size without an allocation. While the caller has not read a
// payload, parsing waits behind it and the buffer fills: that is the
// backpressure the host sees as "no space".
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
import { maskInPlace, wordsOf } from "./mask.js";
import type { websock_msg_hdr_t } from "./types.js";

/** What read() returns when no piece is ready (not an error: call again). */
export const NOTHING_READY = -0x10000;

/** The rx buffer must hold a whole control frame and its header, with room to spare. */
export const MIN_RX_BUFFER = 256;

// Receive states, named after what they wait for.
const WAIT_HEADER = 0; // the next frame header (and, for a control frame, its whole payload)
const WAIT_READ = 1; // the caller to read the current frame's payload
const STOPPED = 2; // a close frame arrived or the connection failed: input is ignored
const PASS_THROUGH = 3; // raw mode: the caller to read whatever bytes came

/** hdr.opcode of a raw-mode piece: bytes as they came off the stream, not a frame. */
export const OPCODE_RAW = 0x10;

export interface ReceiverEvents {
  /** A ping to answer (auto_pong). The payload view is valid during the call only. */
  onPing(payload: Uint8Array, start: number, end: number): void;
  onPong(payload: Uint8Array, start: number, end: number): void;
  /** A valid close frame; `code` is 1005 when it had no status code. */
  onClose(code: number, reason: string): void;
  /** The peer broke the protocol; the receiver has stopped. */
  onProtocolError(error: ErrorRow): void;
}

export interface ReceiverOptions {
  /** Client: frames from the server must not be masked. Server: they must be. */
  expectMasked: boolean;
  /** Deliver pings through read() instead of reporting them to onPing. */
  deliverPings: boolean;
  /** Fail messages longer than this with 1009; 0: no limit. */
  maxMessageSize: number;
}

export class Receiver {
  /** The fixed rx buffer; the host copies arriving bytes into buf[end, buf.length). */
  readonly buf: Uint8Array;
  /** buf as 32-bit words, made once, to unmask and skip ASCII a word at a time (null: buf is not 4-byte aligned). */
  private readonly words: Uint32Array | null;
  /** Where buf lives, for view(). */
  private readonly arrayBuffer: ArrayBufferLike;
  private readonly byteOffset: number;
  /** First byte not consumed yet. */
  start = 0;
  /** End of the bytes received. */
  end = 0;

  private state = WAIT_HEADER;
  private readonly options: ReceiverOptions;
  private readonly events: ReceiverEvents;

  // The frame being delivered.
  private fin = false;
  private opcode = 0;
  private payloadLen = 0;
  private remaining = 0;
  /** Payload bytes of this frame already read: kept apart so offset is exact even where remaining rounds. */
  private delivered = 0;
  private masked = false;
  private readonly maskKey = new Uint8Array(4);
  private maskPhase = 0;
  /** buf[start, checked) holds payload already unmasked and UTF-8 validated. */
  private checked = 0;
  /** The caller has seen this frame's header (matters for empty frames). */
  private announced = false;
  /** Data payload is thrown away unread (after this side started closing). */
  private discardData = false;
  private discarding = false;

  // The message the frames belong to.
  private inFragmentedMessage = false;
  private messageIsText = false;
  private messageBytes = 0;
  private utf8State = UTF8_ACCEPT;

  /** `buf` is the caller's fixed rx buffer (at least MIN_RX_BUFFER bytes); the receiver never replaces it. */
  constructor(buf: Uint8Array, options: ReceiverOptions, events: ReceiverEvents) {
    this.buf = buf;
    this.arrayBuffer = buf.buffer;
    this.byteOffset = buf.byteOffset;
    this.words = wordsOf(buf);
    this.options = options;
    this.events = events;
  }

  get stopped(): boolean {
    return this.state === STOPPED;
  }

  /**
   * Makes room at the end of the buffer and returns how many bytes fit there.
   * Once stopped, the buffer is emptied on every call: input is drained and ignored.
   */
  prepareSpace(): number {
    if (this.start === this.end || this.state === STOPPED) {
      this.start = this.end = this.checked = 0;
    } else if (this.end === this.buf.length && this.start > 0) {
      // Only compact when the tail is full: most reads empty the buffer and reset it above.
      this.buf.copyWithin(0, this.start, this.end);
      this.checked -= this.start;
      this.end -= this.start;
      this.start = 0;
    }
    return this.buf.length - this.end;
  }

  /** Counts `n` bytes the host copied to buf[end, end + n) and parses what it can. */
  commit(n: number): void {
    this.end += n;
    this.parse();
  }

  /** From now on, data frames are consumed without being delivered (RFC 6455 §7.1.2: wait for the close). */
  discardDataFrames(): void {
    this.discardData = true;
    if (this.state === WAIT_READ && isDataOpcode(this.opcode)) this.discarding = true;
    this.parse();
  }

  /** Raw mode: from now on every byte is delivered as it is, unframed. */
  passThrough(): void {
    this.state = PASS_THROUGH;
  }

  /** Stops parsing for good (a close was received or the connection failed). */
  stop(): void {
    this.state = STOPPED;
  }

  /**
   * Copies the next piece of the current frame (at most `len` bytes) to
   * out[outStart...] and describes it in `hdr`. Returns the byte count, or
   * NOTHING_READY when no piece is ready.
   */
  read(hdr: websock_msg_hdr_t, out: Uint8Array | null, outStart: number, len: number): number {
    if (this.state === PASS_THROUGH) return this.readRaw(hdr, out, outStart, len);
    // The frames behind the last one read are parsed now, at the caller's next read (see below).
    if (this.state === WAIT_HEADER) this.parse();
    if (this.state !== WAIT_READ || this.discarding) return NOTHING_READY;
    const ready = this.checked - this.start;
    if (ready === 0 && (this.remaining > 0 || this.announced)) return NOTHING_READY;
    const n = ready < len ? ready : len;
    this.pieceStart = this.start;
    if (n > 0 && out !== null) out.set(this.view(this.start, n), outStart);
    hdr.fin = this.fin;
    hdr.opcode = this.opcode;
    hdr.payload_len = this.payloadLen;
    hdr.offset = this.delivered;
    this.delivered += n;
    this.remaining -= n;
    hdr.bytesleft = this.remaining;
    this.start += n;
    this.announced = true;
    // The next frame is not parsed until the caller reads again (or more bytes arrive): the
    // caller first gets to act on this one, as it would had the next frame come later. A
    // violation, or the peer's close, right behind a message in the same segment then does
    // not end the connection before the caller has, say, echoed that message.
    if (this.remaining === 0) this.finishFrame();
    return n;
  }

  /** Where in `buf` the last piece read() gave began: with `out` null, the piece is read in place. */
  pieceStart = 0;

  private readRaw(hdr: websock_msg_hdr_t, out: Uint8Array | null, outStart: number, len: number): number {
    const ready = this.end - this.start;
    if (ready === 0) return NOTHING_READY;
    const n = ready < len ? ready : len;
    this.pieceStart = this.start;
    if (out !== null) out.set(this.view(this.start, n), outStart);
    this.start += n;
    hdr.fin = false;
    hdr.opcode = OPCODE_RAW;
    hdr.payload_len = n;
    hdr.offset = 0;
    hdr.bytesleft = 0;
    return n;
  }

  /**
   * buf[start, start + n) as a view for set(), made with the constructor over
   * the buffer's ArrayBuffer (kept at construction), not with subarray(): that
   * looks up the species constructor first and costs about a third more per
   * piece in V8.
   */
  private view(start: number, n: number): Uint8Array {
    return new Uint8Array(this.arrayBuffer, this.byteOffset + start, n);
  }

  /** Whether read() has a piece to give. */
  hasPiece(): boolean {
    if (this.state === PASS_THROUGH) return this.end > this.start;
    if (this.state !== WAIT_READ || this.discarding) return false;
    return this.checked > this.start || (this.remaining === 0 && !this.announced);
  }

  /** Whether the stream ended inside a frame or a fragmented message. */
  get midMessage(): boolean {
    return this.state === WAIT_READ || this.inFragmentedMessage || this.end > this.start;
  }

  private parse(): void {
    for (;;) {
      if (this.state === WAIT_READ) {
        if (!this.checkPayload()) return;
      } else if (this.state === WAIT_HEADER) {
        if (!this.parseHeader()) return;
      } else {
        return;
      }
    }
  }

  /**
   * Unmasks and validates the current frame's newly arrived payload.
   * Returns true when the frame is finished and parsing may go on.
   */
  private checkPayload(): boolean {
    const inBuffer = this.end - this.start;
    const available = this.remaining < inBuffer ? this.remaining : inBuffer;
    const limit = this.start + available;
    if (this.checked < limit) {
      if (this.masked) this.maskPhase = maskInPlace(this.buf, this.checked, limit, this.maskKey, this.maskPhase, this.words);
      if (this.messageIsText && isDataOpcode(this.opcode) && !this.discarding) {
        this.utf8State = utf8Validate(this.utf8State, this.buf, this.checked, limit, this.words);
        // RFC 6455 §8.1: fail as soon as the bytes are not valid UTF-8.
        if (this.utf8State === UTF8_REJECT) return this.fail(ERR.INVALID_UTF8);
      }
      this.checked = limit;
    }
    const wholeFrameChecked = available === this.remaining;
    if (wholeFrameChecked && this.fin && this.messageIsText && isDataOpcode(this.opcode) &&
        !this.discarding && this.utf8State !== UTF8_ACCEPT) {
      // The message ended in the middle of a character.
      return this.fail(ERR.INVALID_UTF8);
    }
    if (this.discarding) {
      this.remaining -= available;
      this.start += available;
      if (this.remaining > 0) return false;
      this.finishFrame();
      return true;
    }
    if (this.remaining === 0 && this.announced) {
      this.finishFrame();
      return true;
    }
    return false;
  }

  private finishFrame(): void {
    if (isDataOpcode(this.opcode) && this.fin) {
      this.messageBytes = 0;
      this.utf8State = UTF8_ACCEPT;
    }
    this.state = WAIT_HEADER;
    this.discarding = false;
    this.announced = false;
    if (this.start === this.end) this.start = this.end = this.checked = 0;
  }

  /** Parses the header at `start`. Returns true when a frame was taken and parsing may go on. */
  private parseHeader(): boolean {
    const buf = this.buf;
    const s = this.start;
    const have = this.end - s;
    if (have < 2) return false;
    const b0 = buf[s];
    const b1 = buf[s + 1];
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    let length = b1 & 0x7f;

    // The order of checks follows ws: RSV, opcode, control rules, fragmentation, mask, length.
    // §5.2: "RSV1, RSV2, RSV3: MUST be 0 unless an extension is negotiated."
    if ((b0 & 0x70) !== 0) return this.fail(ERR.RSV_BITS);
    // §5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail_."
    if (!isKnownOpcode(opcode)) return this.fail(ERR.RESERVED_OPCODE);
    const control = isControlOpcode(opcode);
    if (control) {
      // §5.5: "All control frames MUST have a payload length of 125 bytes or less
      // and MUST NOT be fragmented."
      if (!fin) return this.fail(ERR.CONTROL_FRAGMENTED);
      if (length > MAX_CONTROL_PAYLOAD) return this.fail(ERR.CONTROL_TOO_LONG);
    } else if (opcode === OPCODE_CONTINUATION) {
      if (!this.inFragmentedMessage) return this.fail(ERR.UNEXPECTED_CONTINUATION);
    } else if (this.inFragmentedMessage) {
      // §5.4: the fragments of one message are not interleaved with another message.
      return this.fail(ERR.EXPECTED_CONTINUATION);
    }
    // §5.1: "A client MUST close a connection if it detects a masked frame"; a server, an unmasked one.
    if (masked !== this.options.expectMasked) {
      return this.fail(masked ? ERR.MASKED_FRAME : ERR.UNMASKED_FRAME);
    }

    let headerLen = 2;
    if (length === 126) {
      headerLen = 4;
      if (have < headerLen) return false;
      length = (buf[s + 2] << 8) | buf[s + 3];
      // §5.2: "the minimal number of bytes MUST be used to encode the length".
      if (length < 126) return this.fail(ERR.NON_MINIMAL_LENGTH);
    } else if (length === 127) {
      headerLen = 10;
      if (have < headerLen) return false;
      const high = readUint32(buf, s + 2);
      // §5.2: "the most significant bit MUST be 0". Read as two 32-bit words: no shift reaches 32.
      if (high >= 0x80000000) return this.fail(ERR.LENGTH_TOO_LARGE);
      length = high * 0x100000000 + readUint32(buf, s + 6);
      if (length < 0x10000) return this.fail(ERR.NON_MINIMAL_LENGTH);
    }
    if (!control && this.options.maxMessageSize > 0 && !this.discardData &&
        this.messageBytes + length > this.options.maxMessageSize) {
      return this.fail(ERR.MESSAGE_TOO_BIG);
    }
    if (masked) headerLen += 4;
    // A control frame is acted on whole; MIN_RX_BUFFER guarantees it fits.
    if (have < headerLen + (control ? length : 0)) return false;
    if (masked) {
      for (let i = 0; i < 4; i++) this.maskKey[i] = buf[s + headerLen - 4 + i];
    }

    this.start = s + headerLen;
    this.fin = fin;
    this.opcode = opcode;
    this.payloadLen = length;
    this.remaining = length;
    this.delivered = 0;
    this.masked = masked;
    this.maskPhase = 0;
    this.checked = this.start;
    this.announced = false;

    if (control) return this.takeControlFrame(opcode, length);

    if (opcode !== OPCODE_CONTINUATION) {
      this.messageIsText = opcode === OPCODE_TEXT;
      this.utf8State = UTF8_ACCEPT;
      this.messageBytes = 0;
    }
    this.inFragmentedMessage = !fin;
    this.messageBytes += length;
    this.discarding = this.discardData;
    this.state = WAIT_READ;
    return true;
  }

  private takeControlFrame(opcode: number, length: number): boolean {
    const s = this.start;
    const e = s + length;
    if (this.masked) maskInPlace(this.buf, s, e, this.maskKey, 0, this.words);
    if (opcode === OPCODE_PING && this.options.deliverPings) {
      // Delivered through read() like a data frame; it is already unmasked.
      this.masked = false;
      this.checked = e;
      this.state = WAIT_READ;
      return true;
    }
    this.start = e;
    this.remaining = 0;
    if (opcode === OPCODE_PING) {
      this.events.onPing(this.buf, s, e);
    } else if (opcode === OPCODE_PONG) {
      this.events.onPong(this.buf, s, e);
    } else if (opcode === OPCODE_CLOSE) {
      return this.takeClose(s, e);
    }
    if (this.start === this.end) this.start = this.end = this.checked = 0;
    return this.state === WAIT_HEADER;
  }

  private takeClose(s: number, e: number): boolean {
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
    this.events.onClose(code, reason);
    return false;
  }

  private fail(error: ErrorRow): false {
    this.state = STOPPED;
    this.events.onProtocolError(error);
    return false;
  }
}

function isDataOpcode(opcode: number): boolean {
  return opcode < OPCODE_CLOSE;
}

function readUint32(buf: Uint8Array, i: number): number {
  return buf[i] * 0x1000000 + ((buf[i + 1] << 16) | (buf[i + 2] << 8) | buf[i + 3]);
}
