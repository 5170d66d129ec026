// The send side: frames are written into one fixed tx buffer, a buffer-full
// at a time, by produce(). The bytes produced wait in buf[head, tail) until
// the transport has taken them (written()); only then is a message done.
//
// Accepted messages wait in a queue (linked through OutgoingMessage.next, so
// nothing is allocated per message here). A message's payload is referenced,
// never copied whole and never modified: each chunk is copied and masked
// straight into the tx buffer (a string is UTF-8 encoded on the way).
//
// Control frames go out at the next frame boundary (RFC 6455 §5.4: they may
// be injected between the fragments of a message, never inside a frame). A
// pong is written the moment its ping arrives when the sender is between
// frames and the buffer has room; otherwise it waits in a slot that keeps
// only the latest ping's (§5.5.3 allows answering just the most recent one).

import { MAX_CONTROL_PAYLOAD, MAX_HEADER, OPCODE_CLOSE, OPCODE_CONTINUATION, OPCODE_PING, OPCODE_PONG } from "./opcodes.js";
import { copyMasked, maskInPlace, readMaskKey } from "./mask.js";
import { MESSAGE_COMPRESSED, MESSAGE_FIN, MESSAGE_INTERNAL, MESSAGE_RAW, OutgoingMessage } from "./outgoing.js";
import { ringDropFirst, ringFirst, ringOpen, ringPush } from "./message-ring.js";
import { TextCursor } from "./text-cursor.js";
import type { Platform } from "./connection.js";
import { defineColdFields } from "./cold-fields.js";

/** Where a fresh key's random bytes land: one array for every connection, made on first use (not while the module loads). */
let randomKey: Uint8Array | null = null;

const EMPTY = new Uint8Array(0);

/** The tx buffer must hold a whole control frame with its header. */
export const MIN_TX_BUFFER = 256;

/** A control frame's header: 2 bytes and the mask key. */
const CONTROL_HEADER = 6;

/** Room the sender wants before it measures a long string in the free part of the buffer. */
const MEASURE_ROOM = 64;

/**
 * The most UTF-8 bytes one unit of a string's length can take: 3 where
 * strings are UTF-16 (a character above U+FFFF is two units and 4 bytes),
 * 4 where the engine counts code points (XS in the Moddable SDK: "\u{1F600}".length
 * is 1 there). Asked of the engine once, as the module loads.
 */
const MAX_BYTES_PER_UNIT = String.fromCodePoint(0x10000).length === 1 ? 4 : 3;

// The control frames waiting for a frame boundary: one slot each for the
// pong, the ping and the close, their payloads in one array made once (slot
// k at k * 125), their lengths in fields (-1: the slot is empty).
const PONG_SLOT = 0;
const PING_SLOT = 1;
const CLOSE_SLOT = 2;
const SLOT_OPCODES = Object.freeze([OPCODE_PONG, OPCODE_PING, OPCODE_CLOSE]);

export interface SenderOptions {
  /** The client role masks (RFC 6455 §5.3). */
  masking: boolean;
  /** The connection's platform: randomFill for mask keys, and the text encoding it has (TextPlatform). */
  platform: Platform;
  /** Messages longer than this go out as frames of at most this many bytes (0: one frame each). */
  fragmentSize: number;
  /** The words of buf's ArrayBuffer (mask.ts wordsOf), shared with the receiver's when both buffers are in one. */
  words: Uint32Array;
}

// The flags of a Sender: bits of its one `bits` field (on XS one slot for all of them).
/** The close frame goes out at the next frame boundary, ahead of the queue (else once the queue is empty). */
const CLOSE_AHEAD = 1;
/** A close frame went out: RFC 6455 §5.5.1, nothing may follow it. */
const CLOSE_SENT = 2;
/** The ping slot holds the heartbeat (not the application's ping). */
const HEARTBEAT_QUEUED = 4;
/** The heartbeat ping was produced since the owner last looked (heartbeatWentOut). */
const HEARTBEAT_PRODUCED = 8;
/** Inside the frame being produced (of queue.first). */
const IN_FRAME = 16;
/** Frames are masked (SenderOptions.masking: a client's). */
const MASKING = 32;

export class Sender {
  /** The flags above the class, as bits. */
  bits = 0;
  /** A close frame went out: RFC 6455 §5.5.1, nothing may follow it. */
  get closeSent(): boolean {
    return (this.bits & CLOSE_SENT) !== 0;
  }
  /** Whether the heartbeat ping was produced since the last call (its pong deadline starts when it leaves). */
  heartbeatWentOut(): boolean {
    if ((this.bits & HEARTBEAT_PRODUCED) === 0) return false;
    this.bits &= ~HEARTBEAT_PRODUCED;
    return true;
  }
  /** The fixed tx buffer. */
  buf: Uint8Array;
  /** buf[head, tail): produced, not yet taken by the transport. */
  head = 0;
  tail = 0;
  /** buf's ArrayBuffer as 32-bit words (mask.ts), made once, so masking goes a word at a time (null once released). */
  private words: Uint32Array | null;
  /** The connection's platform too (Connection reads it here: one reference per connection). */
  readonly platform: SenderOptions["platform"];
  private declare readonly fragmentSize: number;
  /** The current frame's masking key (4 bytes big-endian, as a number). */
  private maskKey = 0;
  // Cold fields (cold-fields.ts): a connection that sends only bytes and never pings writes none of them.
  /** Made on the first text message (a connection that sends only bytes never pays for it). */
  private declare cursor: TextCursor | null;
  /** The slots' payloads, made when a control frame first has to wait (once per connection, never per frame). */
  private declare controlStore: Uint8Array | null;
  private declare pongLength: number;
  private declare pingLength: number;
  private declare closeLength: number;

  // The messages, in three rings (message-ring.ts), each held by its last message.
  /** Accepted, not fully produced; the first is the one being produced. */
  private queue: OutgoingMessage | null = null;
  /** Fully produced, waiting for the transport to take the last of their bytes. */
  private produced: OutgoingMessage | null = null;
  /** Done (status set), for the owner to take with takeFinished(). */
  private finished: OutgoingMessage | null = null;

  // The frame being produced (of queue.first; IN_FRAME while inside it).
  private frameLeft = 0;
  private framePos = 0;
  /** Payload bytes of the first queued message produced so far. */
  private messagePos = 0;

  /** `buf` is the caller's fixed tx buffer (at least MIN_TX_BUFFER bytes). */
  constructor(buf: Uint8Array, options: SenderOptions) {
    this.buf = buf;
    this.words = options.words;
    // The options are copied, not kept: an object of its own costs slots on XS.
    if (options.masking) this.bits |= MASKING;
    this.platform = options.platform;
    if (options.fragmentSize > 0) this.fragmentSize = options.fragmentSize;
  }

  /** The handle is closed (after failAll): lets go of the buffer, the control frames' store and the text cursor. */
  release(): void {
    this.buf = EMPTY;
    this.words = null;
    this.head = this.tail = 0;
    if (this.controlStore !== null) this.controlStore = null;
    if (this.cursor !== null) this.cursor = null;
  }

  /** Whether the first queued message has started going out (it can no longer be dropped whole). */
  private get started(): boolean {
    return (this.bits & IN_FRAME) !== 0 || this.messagePos > 0;
  }

  enqueue(m: OutgoingMessage): void {
    this.queue = ringPush(this.queue, m);
  }

  /** The messages done since the last call, as a list linked through `next` (null: none). */
  takeFinished(): OutgoingMessage | null {
    const first = ringOpen(this.finished);
    this.finished = null;
    return first;
  }

  /** Fails every queued message that has not started, with `code`. Returns whether any was. */
  dropUnstarted(code: number): boolean {
    const last = this.queue;
    if (last === null) return false;
    // The one going out stays, alone in the queue; the rest fail.
    const kept = this.started ? last.next! : null;
    if (kept === last) return false;
    let m = kept === null ? last.next! : kept.next!;
    for (;;) {
      const next = m.next!;
      this.finish(m, code);
      if (m === last) break;
      m = next;
    }
    if (kept !== null) kept.next = kept;
    this.queue = kept;
    return true;
  }

  /** The stream is gone: every message not yet taken by the transport fails with `code`, and the buffer is emptied. */
  failAll(code: number): boolean {
    const any = this.queue !== null || this.produced !== null;
    this.finishAll(this.produced, code);
    this.finishAll(this.queue, code);
    this.produced = this.queue = null;
    this.bits &= ~IN_FRAME;
    this.messagePos = 0;
    this.cursor?.clear();
    this.head = this.tail = 0;
    this.pongLength = this.pingLength = this.closeLength = -1;
    return any;
  }

  /**
   * A ping's answer (§5.5.2: "as soon as is practical", with the same payload):
   * written now when between frames with room, else kept in the slot (the latest only).
   */
  queuePong(payload: Uint8Array, start: number, end: number): void {
    if (this.bits & CLOSE_SENT) return;
    const length = end - start;
    if (this.pongLength < 0 && (this.bits & IN_FRAME) === 0 && this.buf.length - this.tail >= CONTROL_HEADER + length) {
      this.tail = this.writeControl(this.tail, OPCODE_PONG, payload, start, length);
      return;
    }
    this.pongLength = this.setSlot(PONG_SLOT, payload, start, end);
  }

  /** The application's ping. */
  queuePing(payload: Uint8Array, start: number, end: number): void {
    this.pingLength = this.setSlot(PING_SLOT, payload, start, end);
    this.bits &= ~HEARTBEAT_QUEUED;
  }

  /** The connection's heartbeat ping: `count` as 4 bytes; its pong deadline starts when it is produced. */
  queueHeartbeat(count: number): void {
    const store = this.slots();
    const at = PING_SLOT * MAX_CONTROL_PAYLOAD;
    store[at] = count >>> 24;
    store[at + 1] = (count >> 16) & 0xff;
    store[at + 2] = (count >> 8) & 0xff;
    store[at + 3] = count & 0xff;
    this.pingLength = 4;
    this.bits |= HEARTBEAT_QUEUED;
  }

  /**
   * Queues the close frame: a status code (none when 0) and a reason already
   * UTF-8 encoded. `ahead`: at the next frame boundary; otherwise after every
   * message accepted before it (what was said before the close is sent first).
   */
  queueClose(code: number, reason: Uint8Array, ahead: boolean): void {
    const store = this.slots();
    const at = CLOSE_SLOT * MAX_CONTROL_PAYLOAD;
    if (code === 0) {
      this.closeLength = 0;
    } else {
      store[at] = code >> 8;
      store[at + 1] = code & 0xff;
      for (let i = 0; i < reason.length; i++) store[at + 2 + i] = reason[i];
      this.closeLength = 2 + reason.length;
    }
    if (ahead) this.bits |= CLOSE_AHEAD;
  }

  /** Sends the queued close at the next frame boundary instead of after the queue. */
  hurryClose(): void {
    this.bits |= CLOSE_AHEAD;
  }

  /**
   * Fills the tx buffer with the next bytes to send and returns how many
   * wait in buf[head, tail) (0: nothing to send). They stay valid until
   * written() says the transport took them.
   */
  produce(): number {
    if (this.head === this.tail) this.head = this.tail = 0;
    const cap = this.buf.length;
    let o = this.tail;
    while ((this.bits & CLOSE_SENT) === 0 && o < cap) {
      if (this.bits & IN_FRAME) {
        o = this.continueFrame(o);
        if (this.frameLeft > 0) break;
        this.bits &= ~IN_FRAME;
        const m = ringFirst(this.queue)!;
        if (this.messagePos === m.length) this.messageProduced();
        continue;
      }
      // Between frames: control frames first.
      const slot = this.pongLength >= 0 ? PONG_SLOT : this.pingLength >= 0 ? PING_SLOT :
        this.closeLength >= 0 && ((this.bits & CLOSE_AHEAD) !== 0 || this.queue === null) ? CLOSE_SLOT : -1;
      if (slot >= 0) {
        const length = slot === PONG_SLOT ? this.pongLength : slot === PING_SLOT ? this.pingLength : this.closeLength;
        if (cap - o < CONTROL_HEADER + length) break;
        o = this.writeControl(o, SLOT_OPCODES[slot], this.slots(), slot * MAX_CONTROL_PAYLOAD, length);
        if (slot === PONG_SLOT) {
          this.pongLength = -1;
        } else if (slot === PING_SLOT) {
          this.pingLength = -1;
          if (this.bits & HEARTBEAT_QUEUED) this.bits = (this.bits & ~HEARTBEAT_QUEUED) | HEARTBEAT_PRODUCED;
        } else {
          this.closeLength = -1;
          this.bits |= CLOSE_SENT;
        }
        continue;
      }
      const m = ringFirst(this.queue);
      if (m === null) break;
      const next = this.startFrame(m, o);
      if (next < 0) break;
      o = next;
    }
    this.tail = o;
    return o - this.head;
  }

  /** The transport took `n` bytes from buf[head]. Returns whether that finished any message. */
  written(n: number): boolean {
    this.head += n;
    if (this.head < this.tail) return false;
    this.head = this.tail = 0;
    const last = this.produced;
    if (last === null) return false;
    this.produced = null;
    for (let m = ringOpen(last); m !== null;) {
      const next: OutgoingMessage | null = m.next;
      this.finish(m, 0);
      m = next;
    }
    return true;
  }

  /** Copies a control payload into slot `slot`; returns its length. */
  private setSlot(slot: number, bytes: Uint8Array, start: number, end: number): number {
    const store = this.slots();
    const at = slot * MAX_CONTROL_PAYLOAD;
    for (let i = start; i < end; i++) store[at + i - start] = bytes[i];
    return end - start;
  }

  private slots(): Uint8Array {
    return (this.controlStore ??= new Uint8Array(3 * MAX_CONTROL_PAYLOAD));
  }

  private textCursor(): TextCursor {
    const platform = this.platform;
    return (this.cursor ??= new TextCursor(platform));
  }

  private finish(m: OutgoingMessage, code: number): void {
    m.status = code;
    m.release();
    if (!(m.bits & MESSAGE_INTERNAL)) this.finished = ringPush(this.finished, m);
  }

  /** Finishes every message of the ring `last` with `code`, first to last (the caller empties the ring's field). */
  private finishAll(last: OutgoingMessage | null, code: number): void {
    for (let m = ringOpen(last); m !== null;) {
      const next: OutgoingMessage | null = m.next;
      this.finish(m, code);
      m = next;
    }
  }

  private messageProduced(): void {
    const last = this.queue!;
    const m = last.next!;
    this.queue = ringDropFirst(last);
    if (m.text !== null) this.cursor?.clear();
    this.messagePos = 0;
    this.produced = ringPush(this.produced, m);
  }

  /**
   * Starts the next frame of `m` at buf[o]: its header (none for raw bytes),
   * or, for a short string, the whole frame at once. Returns the offset after
   * what it wrote, or -1 when the buffer lacks the room to start.
   */
  private startFrame(m: OutgoingMessage, o: number): number {
    const room = this.buf.length - o;
    if (m.bits & MESSAGE_RAW) {
      this.beginFrame(m.length - this.messagePos);
      return o;
    }
    if (m.text !== null && m.length < 0) {
      const fragment = this.fragmentSize;
      const most = MAX_BYTES_PER_UNIT * m.units;
      if (most + MAX_HEADER <= room && (fragment === 0 || most <= fragment)) return this.writeShortText(m, o);
      if (room < MEASURE_ROOM) return -1;
      const cursor = this.textCursor();
      cursor.reset(m.text, m.units);
      m.length = cursor.measure(this.buf, o, this.buf.length);
    }
    if (room < MAX_HEADER) return -1;
    const left = m.length - this.messagePos;
    const fragment = this.fragmentSize;
    const length = fragment > 0 && left > fragment ? fragment : left;
    const fin = (m.bits & MESSAGE_FIN) !== 0 && length === left;
    const opcode = this.messagePos === 0 ? m.opcode : OPCODE_CONTINUATION;
    // RFC 7692 §6.1: RSV1 on the first frame of a compressed message only.
    const rsv1 = (m.bits & MESSAGE_COMPRESSED) !== 0 && this.messagePos === 0 ? 0x40 : 0;
    o = this.writeHeader(o, (fin ? 0x80 : 0) | rsv1 | opcode, length);
    this.beginFrame(length);
    return o;
  }

  private beginFrame(length: number): void {
    this.bits |= IN_FRAME;
    this.frameLeft = length;
    this.framePos = 0;
  }

  /**
   * A string that fits whatever its characters: encoded once after room for
   * the longest header, then the header put right before it.
   */
  private writeShortText(m: OutgoingMessage, o: number): number {
    const at = o + MAX_HEADER;
    const cursor = this.textCursor();
    cursor.reset(m.text!, m.units);
    const n = cursor.writeAll(this.buf, at, this.buf.length);
    m.length = n;
    const payloadAt = o + headerLength(n, (this.bits & MASKING) !== 0);
    if (payloadAt < at) this.buf.copyWithin(payloadAt, at, at + n);
    this.writeHeader(o, ((m.bits & MESSAGE_FIN) !== 0 ? 0x80 : 0) | m.opcode, n);
    if (this.bits & MASKING) maskInPlace(this.buf, payloadAt, payloadAt + n, this.maskKey, 0, this.words);
    this.messagePos = n;
    this.messageProduced();
    return payloadAt + n;
  }

  /** Writes a control frame at buf[o]; returns the offset after it. */
  private writeControl(o: number, opcode: number, payload: Uint8Array, start: number, length: number): number {
    o = this.writeHeader(o, 0x80 | opcode, length);
    this.copyMasked(payload, start, o, length, 0);
    return o + length;
  }

  /** Writes the frame header at buf[o] and picks a fresh mask key; returns the offset after it. */
  private writeHeader(o: number, firstByte: number, length: number): number {
    const buf = this.buf;
    const masking = (this.bits & MASKING) !== 0;
    const maskBit = masking ? 0x80 : 0;
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
    if (masking) {
      // §5.3: a fresh, unpredictable masking key for every frame.
      const random = (randomKey ??= new Uint8Array(4));
      this.platform.randomFill(random);
      this.maskKey = readMaskKey(random, 0);
      buf[o++] = random[0];
      buf[o++] = random[1];
      buf[o++] = random[2];
      buf[o++] = random[3];
    }
    return o;
  }

  /** Copies as much of the current frame's payload as fits after buf[o]; returns the new offset. */
  private continueFrame(o: number): number {
    const room = this.buf.length - o;
    const n = this.frameLeft < room ? this.frameLeft : room;
    if (n === 0) return o;
    const m = ringFirst(this.queue)!;
    if (m.bytes !== null) {
      const from = m.offset + this.messagePos;
      if (m.bits & MESSAGE_RAW) this.buf.set(new Uint8Array(m.bytes.buffer, m.bytes.byteOffset + from, n), o);
      else this.copyMasked(m.bytes, from, o, n, this.framePos);
    } else {
      const cursor = this.textCursor();
      if (this.messagePos === 0 && this.framePos === 0) cursor.reset(m.text!, m.units);
      cursor.write(this.buf, o, o + n);
      if (this.bits & MASKING) maskInPlace(this.buf, o, o + n, this.maskKey, this.framePos & 3, this.words);
    }
    this.messagePos += n;
    this.framePos += n;
    this.frameLeft -= n;
    return o + n;
  }

  /** buf[o, o + n) = src[from, from + n), masked from frame position `pos` when this side masks. */
  private copyMasked(src: Uint8Array, from: number, o: number, n: number, pos: number): void {
    if (this.bits & MASKING) copyMasked(src, from, this.buf, o, n, this.maskKey, pos & 3, this.words);
    else this.buf.set(from === 0 && n === src.length ? src : new Uint8Array(src.buffer, src.byteOffset + from, n), o);
  }
}
defineColdFields(Sender.prototype, {
  fragmentSize: 0,
  cursor: null,
  controlStore: null,
  pongLength: -1,
  pingLength: -1,
  closeLength: -1,
});

/** The header's length for a payload of `n` bytes. */
function headerLength(n: number, masking: boolean): number {
  return (n < 126 ? 2 : n < 0x10000 ? 4 : 10) + (masking ? 4 : 0);
}
