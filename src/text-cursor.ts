// A text payload's UTF-8 bytes, produced piece by piece into the fixed tx
// buffer, with no encoded copy of the string.
//
// Where the host has a UTF-8 writer (Host.utf8Writer: websock's native one
// on XS, hosts/moddable/utf8), each piece is one call that resumes in the
// string where the last stopped and allocates nothing. Else, where it has a
// native encoder (TextEncoder.encodeInto: Node, and XS with Moddable's text
// encoder), each piece is one native call on a bounded substring; otherwise
// the pure encoder in utf8.ts walks the string. Every way a piece can end
// inside a character: the rest of that character waits in a 4-byte spill for
// the next piece, so a frame boundary may fall anywhere.

import { Utf8StreamEncoder, isAscii, utf8Length } from "./utf8.js";

/** TextEncoder.prototype.encodeInto's contract: as many whole characters of `source` as fit. */
export interface Utf8Encoder {
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}

/**
 * A native UTF-8 writer that resumes where it stopped (Host.utf8Writer;
 * hosts/moddable/utf8/websock_utf8.c). `state` is the 8 bytes of a
 * Uint32Array of 2, [byte offset in the engine's own representation of
 * `text`, string units still to encode]: [0, units] to start, then handed
 * back untouched. write() puts as many whole characters as fit into
 * out[start, end), returns how many bytes, and updates `state`; state[1] is
 * 0 once the text is done. A lone surrogate, or the first half of a pair cut
 * by `units`, is written U+FFFD, as TextEncoder writes it.
 */
export interface Utf8Writer {
  write(text: string, state: Uint8Array, out: Uint8Array, start: number, end: number): number;
}

/** What the cursor takes from the platform (Host.utf8Writer, Host.textEncoder, Host.utf8Length), whichever it has. */
export interface TextPlatform {
  utf8Writer?: Utf8Writer | null;
  textEncoder?: Utf8Encoder | null;
  utf8Length?: ((text: string) => number) | null;
}


// Called on the string, not as text.substring(...) / text.charCodeAt(...): XS wraps a
// primitive string in an object (2 slots of garbage) for each method it looks up on it.
const substring = String.prototype.substring;
const charCodeAt = String.prototype.charCodeAt;

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

export class TextCursor {
  private readonly writer: Utf8Writer | null;
  /** The writer's state, as words (read here) and as the bytes it is given; made once per cursor. */
  private readonly stateWords: Uint32Array | null;
  private readonly stateBytes: Uint8Array | null;
  private readonly encoder: Utf8Encoder | null;
  private readonly byteLength: ((text: string) => number) | null;
  private readonly fallback: Utf8StreamEncoder | null;
  private text = "";
  private units = 0;
  /** UTF-16 units of `text` encoded so far (native path). */
  private pos = 0;
  /** measure() found the text ASCII: a piece of n units is n bytes, so it needs no destination cut to its end. */
  private ascii = false;
  // Bytes of a character cut by the end of the previous piece (native path).
  private readonly spill = new Uint8Array(4);
  private spillStart = 0;
  private spillEnd = 0;
  // A view of the buffer after the longest frame header, made on first use.
  private tail: Uint8Array | null = null;
  private tailOf: Uint8Array | null = null;
  private tailStart = -1;

  /** The host's writer, encoder and byte length, when it has them: the writer first, then the encoder, else the pure encoder. */
  constructor(platform: TextPlatform) {
    const writer = platform.utf8Writer ?? null;
    const encoder = writer === null ? platform.textEncoder ?? null : null;
    this.writer = writer;
    this.stateWords = writer !== null ? new Uint32Array(2) : null;
    this.stateBytes = this.stateWords !== null ? new Uint8Array(this.stateWords.buffer) : null;
    this.encoder = encoder;
    this.byteLength = writer === null ? platform.utf8Length ?? null : null;
    this.fallback = writer === null && encoder === null ? new Utf8StreamEncoder() : null;
  }

  /** Starts on the first `units` UTF-16 units of `text`. */
  reset(text: string, units: number): void {
    this.text = text;
    this.units = units;
    this.pos = 0;
    this.ascii = false;
    this.spillStart = this.spillEnd = 0;
    if (this.stateWords !== null) this.rewindWriter();
    if (this.fallback !== null) this.fallback.reset(text, units);
  }

  /** Drops the string (the message is done). */
  clear(): void {
    this.reset("", 0);
  }

  /**
   * The UTF-8 length of the text set by reset(). `scratch[start, end)` is
   * free space the native path may encode into to count (at least 16 bytes).
   * A lone surrogate counts as U+FFFD (3 bytes), as TextEncoder encodes it.
   */
  measure(scratch: Uint8Array, start: number, end: number): number {
    // The writer counts by writing into the scratch space: no garbage (isAscii's search leaves some when it finds a character).
    if (this.writer !== null) return this.measureByWriter(scratch, start, end);
    const text = this.text;
    const units = this.units;
    if (this.byteLength !== null) {
      // The host's native length (Node: Buffer.byteLength) says ASCII too: as many bytes as units
      // (a non-ASCII unit takes 2 or more, a pair 4). A scan with isAscii first cost as much as
      // the rest of a 64 KiB send in V8 (its RegExp tests every position).
      const bytes = this.byteLength(units === text.length ? text : substring.call(text, 0, units));
      this.ascii = bytes === units;
      return bytes;
    }
    if (isAscii(text)) {
      this.ascii = true;
      return units;
    }
    if (this.encoder === null) return utf8Length(text, units);
    let bytes = 0;
    for (let p = 0; p < units;) {
      const r = this.encodePiece(p, scratch, start, end);
      if (r.read === 0) return bytes + utf8Length(substring.call(text, p, units));
      p += r.read;
      bytes += r.written;
    }
    return bytes;
  }

  /**
   * Encodes the whole text into out[start, end) in one go and returns its
   * length; the caller has made sure it fits (the most bytes a unit can take, per unit: sender.ts).
   */
  writeAll(out: Uint8Array, start: number, end: number): number {
    if (this.writer !== null) return this.writer.write(this.text, this.stateBytes!, out, start, end);
    if (this.fallback !== null) return this.fallback.encodeInto(out, start, end);
    const r = this.encodePiece(0, out, start, end);
    this.pos = r.read;
    return r.written;
  }

  /** Writes exactly `end - start` further bytes into out[start, end); the caller never asks past the text's end. */
  write(out: Uint8Array, start: number, end: number): void {
    if (this.fallback !== null) {
      this.fallback.encodeInto(out, start, end);
      return;
    }
    let o = start;
    while (o < end && this.spillStart < this.spillEnd) out[o++] = this.spill[this.spillStart++];
    if (this.writer !== null) {
      this.writeByWriter(out, o, end);
      return;
    }
    while (o < end && this.pos < this.units) {
      const r = this.encodePiece(this.pos, out, o, end);
      if (r.read === 0) {
        // The next character is longer than what is left of `out`: encode it aside and cut it.
        o = this.spillNext(out, o, end);
        continue;
      }
      this.pos += r.read;
      o += r.written;
    }
  }

  /** The native writer's pieces into out[o, end), a character that does not fit through the spill. */
  private writeByWriter(out: Uint8Array, o: number, end: number): void {
    const writer = this.writer!;
    const words = this.stateWords!;
    const state = this.stateBytes!;
    const text = this.text;
    while (o < end && words[1] > 0) {
      o += writer.write(text, state, out, o, end);
      if (o === end || words[1] === 0) return;
      // The next character is longer than what is left of `out`: write it aside and cut it.
      this.spillStart = 0;
      this.spillEnd = writer.write(text, state, this.spill, 0, 4);
      while (o < end && this.spillStart < this.spillEnd) out[o++] = this.spill[this.spillStart++];
    }
  }

  /** The UTF-8 length by the writer, written piece by piece into the scratch space and thrown away; then back to the start. */
  private measureByWriter(scratch: Uint8Array, start: number, end: number): number {
    const writer = this.writer!;
    const words = this.stateWords!;
    const state = this.stateBytes!;
    const text = this.text;
    let bytes = 0;
    while (words[1] > 0) {
      const n = writer.write(text, state, scratch, start, end);
      // At least 16 bytes of scratch always take a character (4 bytes at most): 0 would be a writer that is stuck.
      if (n === 0) break;
      bytes += n;
    }
    this.rewindWriter();
    return bytes;
  }

  /** The writer's state at the text's start: byte offset 0, all its units to go. */
  private rewindWriter(): void {
    const words = this.stateWords!;
    words[0] = 0;
    words[1] = this.units;
  }

  /** Encodes text from unit `p` into out[start, end): a substring no longer than the room, never cutting a surrogate pair. */
  private encodePiece(p: number, out: Uint8Array, start: number, end: number): { read: number; written: number } {
    const text = this.text;
    const room = end - start;
    let n = this.units - p;
    if (n > room) {
      n = room;
      if (isHighSurrogate(charCodeAt.call(text, p + n - 1))) n--;
    }
    const piece = p === 0 && n === text.length ? text : substring.call(text, p, p + n);
    // ASCII: the piece writes exactly its length, so the destination may run on to the buffer's end.
    return this.encoder!.encodeInto(piece, this.destination(out, start, this.ascii ? out.length : end));
  }

  /**
   * out[start, end) as encodeInto's destination: the whole buffer, or the
   * view of the rest of it from `start`, kept for the next piece that starts
   * there (a frame's payload starts after a header of a few fixed lengths),
   * else a new view (garbage on XS: 4 slots).
   */
  private destination(out: Uint8Array, start: number, end: number): Uint8Array {
    if (start === 0 && end === out.length) return out;
    if (end !== out.length) return new Uint8Array(out.buffer, out.byteOffset + start, end - start);
    if (start !== this.tailStart || this.tailOf !== out) {
      this.tailOf = out;
      this.tailStart = start;
      this.tail = new Uint8Array(out.buffer, out.byteOffset + start, end - start);
    }
    return this.tail!;
  }

  private spillNext(out: Uint8Array, o: number, end: number): number {
    const text = this.text;
    const p = this.pos;
    const width = isHighSurrogate(charCodeAt.call(text, p)) && p + 1 < this.units ? 2 : 1;
    const r = this.encoder!.encodeInto(substring.call(text, p, p + width), this.spill);
    this.pos += r.read;
    this.spillStart = 0;
    this.spillEnd = r.written;
    while (o < end && this.spillStart < this.spillEnd) out[o++] = this.spill[this.spillStart++];
    return o;
  }
}
