// UTF-8 in both directions, without TextEncoder/TextDecoder (not ECMAScript,
// so not in the pure core).
//
// Validation is Björn Höhrmann's DFA: one table lookup per byte, state kept
// between calls so a message can be validated piece by piece across frames
// and fragments, failing on the first byte that cannot start or continue a
// valid sequence (overlong forms, surrogates and code points above U+10FFFF
// included).

import { Pattern } from "./pattern.js";

export const UTF8_ACCEPT = 0;
export const UTF8_REJECT = 12;

// Byte classes (256 entries) then the transition table (state + class).
const UTF8_CLASS = new Uint8Array([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
  7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  8, 8, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  10, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 3, 3, 11, 6, 6, 6, 5, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
]);
const UTF8_TRANSITION = new Uint8Array([
  0, 12, 24, 36, 60, 96, 84, 12, 12, 12, 48, 72, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
  12, 0, 12, 12, 12, 12, 12, 0, 12, 0, 12, 12, 12, 24, 12, 12, 12, 12, 12, 24, 12, 24, 12, 12,
  12, 12, 12, 12, 12, 12, 12, 24, 12, 12, 12, 12, 12, 24, 12, 12, 12, 12, 12, 12, 12, 24, 12, 12,
  12, 12, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12, 12, 36, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12,
  12, 36, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
]);

/**
 * Advances the validator over bytes[start, end) from `state` and returns the
 * new state: UTF8_ACCEPT at a character boundary, UTF8_REJECT as soon as a
 * byte is invalid (later bytes are not looked at), anything else mid-character.
 * `words`, when given, is mask.ts wordsOf(bytes), the words of bytes' whole
 * ArrayBuffer: ASCII runs are then skipped 4 bytes at a time.
 */
export function utf8Validate(state: number, bytes: Uint8Array, start: number, end: number, words: Uint32Array | null = null): number {
  // The tables as locals: a module-level const read in a loop is checked for
  // initialization on every read (V8, ES modules); a local is not.
  const transition = UTF8_TRANSITION;
  const byteClass = UTF8_CLASS;
  let i = start;
  // Fast path: ASCII runs need no table lookups.
  if (state === UTF8_ACCEPT) i = skipAscii(bytes, i, end, words);
  for (; i < end; i++) {
    state = transition[state + byteClass[bytes[i]]];
    if (state === UTF8_REJECT) return UTF8_REJECT;
    if (state === UTF8_ACCEPT) {
      while (i + 1 < end && bytes[i + 1] < 0x80) i++;
    }
  }
  return state;
}

/** Below this many bytes the byte loop is as fast as going by words. */
const WORDS_FROM = 16;

/** The index of the first byte >= 0x80 in bytes[i, end), or end. */
function skipAscii(bytes: Uint8Array, i: number, end: number, words: Uint32Array | null): number {
  if (words !== null && end - i >= WORDS_FROM) {
    // Up to a word boundary of the ArrayBuffer (`at` is bytes' offset in it), then whole
    // words with no high bit set (two per step: half the loop's overhead), then byte by byte.
    const at = bytes.byteOffset;
    for (; ((at + i) & 3) !== 0; i++) if (bytes[i] >= 0x80) return i;
    const last = (at + end) >> 2;
    let w = (at + i) >> 2;
    while (w + 1 < last && ((words[w] | words[w + 1]) & 0x80808080) === 0) w += 2;
    while (w < last && (words[w] & 0x80808080) === 0) w++;
    i = (w << 2) - at;
  }
  while (i < end && bytes[i] < 0x80) i++;
  return i;
}

/**
 * Whether `text` is all ASCII: one native scan for a character at or above
 * U+0080. Asked as "is there one", not "does all of it match": a failed
 * search builds nothing, where a match of the whole text would copy it into
 * a result array (garbage as large as the text, on XS in its chunk heap).
 */
// Not /[^\x00-\x7f]/: XS 13 (xsnap) finds that class in "a".
const NON_ASCII = new Pattern(String.raw`[\u0080-\uffff]`);

export function isAscii(text: string): boolean {
  return !NON_ASCII.test(text);
}

// Strings are read through String.prototype.charCodeAt called on them, not
// as `ch.charCodeAt(0)` or `ch.length`: XS wraps a primitive string in a
// String object (2 slots of garbage) for every property it reads of it, so a
// method call per character left two slots per character for the collector.
const charCodeAt = String.prototype.charCodeAt;
const stringIterator = String.prototype[Symbol.iterator] as (this: string) => Iterator<string>;

/** Whether `ch`, one step of the string iterator, is a surrogate pair (two units): its second unit is a number. */
function isPair(ch: string): boolean {
  const second = charCodeAt.call(ch, 1);
  return second === second;
}

/**
 * The UTF-8 length of the first `units` UTF-16 code units of `text`.
 * A lone surrogate counts as U+FFFD (3 bytes), as TextEncoder encodes it.
 */
export function utf8Length(text: string, units = text.length): number {
  // Most text is ASCII: one native scan (linear in V8 and in XS alike) then
  // says its UTF-8 length is its length, with no loop over its characters.
  if (units === text.length && isAscii(text)) return units;
  // The string iterator walks the string once. Not text.charCodeAt(i): XS keeps
  // strings as UTF-8, so finding unit i costs O(i) and a loop over them O(n²).
  let bytes = 0;
  let seen = 0;
  for (const ch of text) {
    if (seen >= units) break;
    const c = charCodeAt.call(ch, 0);
    if (isPair(ch)) {
      // A surrogate pair; cut by `units` after its first half, that half is lone.
      if (seen + 2 > units) return bytes + 3;
      bytes += 4;
      seen += 2;
    } else {
      // Above U+FFFF as one step of one unit: an engine that counts code points (XS in the Moddable SDK).
      bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      seen++;
    }
  }
  return bytes;
}

/**
 * Encodes a string into byte buffers piece by piece, so a text message of any
 * length can be masked straight into a fixed tx buffer without an encoded copy.
 * The encoder remembers where it stopped, including inside a character.
 */
export class Utf8StreamEncoder {
  // The string is walked with its iterator (see utf8Length for why not charCodeAt(i)),
  // made when the first byte is asked for: a reset that is never encoded (a measure, a
  // clear) makes none (an iterator is about 10 slots on XS).
  private chars: Iterator<string> | null = null;
  private text = "";
  private units = 0;
  /** UTF-16 units consumed so far. */
  private index = 0;
  // Bytes of a character that did not fit in the previous call's output.
  private readonly spill = new Uint8Array(4);
  private spillStart = 0;
  private spillEnd = 0;

  reset(text: string, units: number): void {
    this.chars = null;
    this.text = text;
    this.units = units;
    this.index = 0;
    this.spillStart = 0;
    this.spillEnd = 0;
  }

  /** Writes up to `end - start` bytes into out[start, end) and returns how many. */
  encodeInto(out: Uint8Array, start: number, end: number): number {
    let o = start;
    while (this.spillStart < this.spillEnd && o < end) out[o++] = this.spill[this.spillStart++];
    const units = this.units;
    let i = this.index;
    if (this.chars === null && i < units) this.chars = stringIterator.call(this.text);
    const chars = this.chars;
    while (chars !== null && i < units && o < end) {
      const next = chars.next();
      if (next.done === true) break;
      const ch = next.value;
      let c = charCodeAt.call(ch, 0);
      i++;
      if (c < 0x80) {
        out[o++] = c;
        continue;
      }
      let n: number;
      const s = this.spill;
      if (c < 0x800) {
        s[0] = 0xc0 | (c >> 6);
        s[1] = 0x80 | (c & 0x3f);
        n = 2;
      } else {
        if (c >= 0xd800 && c <= 0xdfff) {
          // The iterator pairs surrogates; a lone one (or a pair cut by `units`) is U+FFFD.
          const low = charCodeAt.call(ch, 1);
          if (low === low && i < units) {
            c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
            i++;
          } else {
            c = 0xfffd;
          }
        }
        if (c >= 0x10000) {
          s[0] = 0xf0 | (c >> 18);
          s[1] = 0x80 | ((c >> 12) & 0x3f);
          s[2] = 0x80 | ((c >> 6) & 0x3f);
          s[3] = 0x80 | (c & 0x3f);
          n = 4;
        } else {
          s[0] = 0xe0 | (c >> 12);
          s[1] = 0x80 | ((c >> 6) & 0x3f);
          s[2] = 0x80 | (c & 0x3f);
          n = 3;
        }
      }
      let k = 0;
      while (k < n && o < end) out[o++] = s[k++];
      this.spillStart = k;
      this.spillEnd = k < n ? n : 0;
      if (k < n) break;
      this.spillStart = 0;
    }
    this.index = i;
    return o - start;
  }
}

/** Decodes UTF-8 that is already known to be valid (close reasons, handshake values). */
export function utf8Decode(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let out = "";
  let i = start;
  while (i < end) {
    const b = bytes[i];
    let c: number;
    if (b < 0x80) {
      c = b;
      i += 1;
    } else if (b < 0xe0) {
      c = ((b & 0x1f) << 6) | (bytes[i + 1] & 0x3f);
      i += 2;
    } else if (b < 0xf0) {
      c = ((b & 0x0f) << 12) | ((bytes[i + 1] & 0x3f) << 6) | (bytes[i + 2] & 0x3f);
      i += 3;
    } else {
      c = ((b & 0x07) << 18) | ((bytes[i + 1] & 0x3f) << 12) | ((bytes[i + 2] & 0x3f) << 6) | (bytes[i + 3] & 0x3f);
      i += 4;
    }
    out += String.fromCodePoint(c);
  }
  return out;
}

/** Encodes a whole (short) string; for close reasons and handshake text. */
export function utf8Encode(text: string): Uint8Array {
  const out = new Uint8Array(utf8Length(text));
  const encoder = new Utf8StreamEncoder();
  encoder.reset(text, text.length);
  encoder.encodeInto(out, 0, out.length);
  return out;
}
