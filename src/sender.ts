// The send side: frames are written into one fixed tx buffer, a buffer-full
// at a time, by produce(). A data frame's payload is referenced, never
// copied whole and never modified: each chunk is copied and masked straight
// into the tx buffer (a string is UTF-8 encoded on the way). Control frames
// wait in fixed slots and go out at the next frame boundary (RFC 6455 §5.4:
// control frames may be injected between the fragments of a message, never
// inside a frame).

import { MAX_CONTROL_PAYLOAD, MAX_HEADER, OPCODE_CLOSE, OPCODE_PING, OPCODE_PONG } from "./opcodes.js";
import { Utf8StreamEncoder } from "./utf8.js";
import { copyMasked, maskInPlace, wordsOf } from "./mask.js";

/** The tx buffer must hold a whole control frame with its header. */
export const MIN_TX_BUFFER = 256;

/** A control frame waiting for a frame boundary. */
class ControlSlot {
  readonly payload = new Uint8Array(MAX_CONTROL_PAYLOAD);
  length = 0;
  pending = false;

  set(bytes: Uint8Array, start: number, end: number): void {
    this.length = end - start;
    this.payload.set(bytes.subarray(start, end));
    this.pending = true;
  }
}

export class Sender {
  /** The fixed tx buffer; produce() fills buf[0, n). */
  readonly buf: Uint8Array;
  /** buf as 32-bit words, made once, so masking goes a word at a time (null: buf is not 4-byte aligned). */
  private readonly words: Uint32Array | null;
  private readonly masking: boolean;
  private readonly randomFill: (out: Uint8Array) => void;
  private readonly maskKey = new Uint8Array(4);

  private readonly pong = new ControlSlot();
  private readonly ping = new ControlSlot();
  private readonly close = new ControlSlot();
  /** A close frame went out: RFC 6455 §5.5.1, nothing may follow it. */
  closeSent = false;

  // The one data frame (or raw byte run) queued by the caller.
  private dataQueued = false;
  private dataStarted = false;
  private dataRaw = false;
  private dataFirstByte = 0;
  private dataBytes: Uint8Array | null = null;
  private dataOffset = 0;
  private readonly encoder = new Utf8StreamEncoder();
  private dataLength = 0;
  private dataPos = 0;
  /** Counts queued items (data frames and raw byte runs) fully produced, so a caller can tell when its own is out. */
  framesProduced = 0;

  /** `buf` is the caller's fixed tx buffer (at least MIN_TX_BUFFER bytes). `masking`: the client role. */
  constructor(buf: Uint8Array, masking: boolean, randomFill: (out: Uint8Array) => void) {
    this.buf = buf;
    this.words = wordsOf(buf);
    this.masking = masking;
    this.randomFill = randomFill;
  }

  /** Whether a data frame is queued or partly produced. */
  get busy(): boolean {
    return this.dataQueued;
  }

  /** Whether produce() has anything to write. */
  get hasOutput(): boolean {
    if (this.closeSent) return false;
    return this.dataQueued || this.pong.pending || this.ping.pending || this.close.pending;
  }

  /** Queues a data frame whose payload is bytes[offset, offset + length). */
  queueBytes(opcode: number, fin: boolean, bytes: Uint8Array, offset: number, length: number): void {
    this.queue(opcode, fin, length, false);
    this.dataBytes = bytes;
    this.dataOffset = offset;
  }

  /** Queues a text frame from the first `units` UTF-16 units of `text`, `byteLength` bytes once encoded. */
  queueString(opcode: number, fin: boolean, text: string, units: number, byteLength: number): void {
    this.queue(opcode, fin, byteLength, false);
    this.dataBytes = null;
    this.encoder.reset(text, units);
  }

  /** Queues bytes to go out as they are, with no frame around them (the HTTP upgrade request). */
  queueRaw(bytes: Uint8Array): void {
    this.queue(0, true, bytes.length, true);
    this.dataBytes = bytes;
    this.dataOffset = 0;
  }

  /** Drops a queued data frame that has not started (the connection is closing). Returns whether one was dropped. */
  dropUnstarted(): boolean {
    if (!this.dataQueued || this.dataStarted) return false;
    this.dataQueued = false;
    this.dataBytes = null;
    return true;
  }

  queuePong(payload: Uint8Array, start: number, end: number): void {
    // §5.5.3: a pong may answer only the most recent ping; the slot keeps the latest.
    this.pong.set(payload, start, end);
  }

  queuePing(payload: Uint8Array, start: number, end: number): void {
    this.ping.set(payload, start, end);
  }

  /** Queues the close frame: a status code (none when 0) and a reason already UTF-8 encoded. */
  queueClose(code: number, reason: Uint8Array): void {
    const slot = this.close;
    if (code === 0) {
      slot.length = 0;
    } else {
      slot.payload[0] = code >> 8;
      slot.payload[1] = code & 0xff;
      slot.payload.set(reason, 2);
      slot.length = 2 + reason.length;
    }
    slot.pending = true;
  }

  /**
   * Fills the tx buffer with the next bytes to send and returns their count
   * (0: nothing to send). The bytes stay valid until the next call.
   */
  produce(): number {
    const cap = this.buf.length;
    let o = 0;
    while (!this.closeSent) {
      if (this.dataStarted) {
        o = this.continueData(o);
        if (this.dataPos < this.dataLength) return o;
        this.dataStarted = false;
        this.dataQueued = false;
        this.dataBytes = null;
        this.framesProduced++;
        continue;
      }
      const slot = this.pong.pending ? this.pong : this.ping.pending ? this.ping : this.close.pending ? this.close : null;
      if (slot !== null) {
        if (cap - o < 6 + slot.length) return o;
        const opcode = slot === this.pong ? OPCODE_PONG : slot === this.ping ? OPCODE_PING : OPCODE_CLOSE;
        o = this.writeHeader(o, 0x80 | opcode, slot.length);
        this.copyMasked(slot.payload, 0, o, slot.length, 0);
        o += slot.length;
        slot.pending = false;
        if (slot === this.close) this.closeSent = true;
        continue;
      }
      if (!this.dataQueued) return o;
      if (!this.dataRaw) {
        if (cap - o < MAX_HEADER) return o;
        o = this.writeHeader(o, this.dataFirstByte, this.dataLength);
      }
      this.dataStarted = true;
    }
    return o;
  }

  private queue(opcode: number, fin: boolean, length: number, raw: boolean): void {
    this.dataQueued = true;
    this.dataStarted = false;
    this.dataRaw = raw;
    this.dataFirstByte = (fin ? 0x80 : 0) | opcode;
    this.dataLength = length;
    this.dataPos = 0;
  }

  /** Writes the frame header at buf[o] and picks a fresh mask key; returns the offset after it. */
  private writeHeader(o: number, firstByte: number, length: number): number {
    const buf = this.buf;
    const maskBit = this.masking ? 0x80 : 0;
    buf[o++] = firstByte;
    if (length < 126) {
      buf[o++] = maskBit | length;
    } else if (length < 0x10000) {
      buf[o++] = maskBit | 126;
      buf[o++] = length >> 8;
      buf[o++] = length & 0xff;
    } else {
      // Two 32-bit words: shifts in JS are 32-bit, so the high word is a division.
      const high = Math.floor(length / 0x100000000);
      const low = length >>> 0;
      buf[o++] = maskBit | 127;
      buf[o++] = high >>> 24;
      buf[o++] = (high >> 16) & 0xff;
      buf[o++] = (high >> 8) & 0xff;
      buf[o++] = high & 0xff;
      buf[o++] = low >>> 24;
      buf[o++] = (low >> 16) & 0xff;
      buf[o++] = (low >> 8) & 0xff;
      buf[o++] = low & 0xff;
    }
    if (this.masking) {
      // §5.3: a fresh, unpredictable masking key for every frame.
      this.randomFill(this.maskKey);
      buf.set(this.maskKey, o);
      o += 4;
    }
    return o;
  }

  /** Copies as much of the current payload as fits after buf[o]; returns the new offset. */
  private continueData(o: number): number {
    const room = this.buf.length - o;
    const left = this.dataLength - this.dataPos;
    const n = left < room ? left : room;
    if (n === 0) return o;
    if (this.dataBytes !== null) {
      if (this.dataRaw) this.buf.set(this.dataBytes.subarray(this.dataOffset + this.dataPos, this.dataOffset + this.dataPos + n), o);
      else this.copyMasked(this.dataBytes, this.dataOffset + this.dataPos, o, n, this.dataPos);
    } else {
      this.encoder.encodeInto(this.buf, o, o + n);
      if (this.masking) maskInPlace(this.buf, o, o + n, this.maskKey, this.dataPos & 3, this.words);
    }
    this.dataPos += n;
    return o + n;
  }

  /** buf[o, o + n) = src[from, from + n), masked from payload position `pos` when this side masks. */
  private copyMasked(src: Uint8Array, from: number, o: number, n: number, pos: number): void {
    if (this.masking) copyMasked(src, from, this.buf, o, n, this.maskKey, pos & 3, this.words);
    else this.buf.set(src.subarray(from, from + n), o);
  }
}
