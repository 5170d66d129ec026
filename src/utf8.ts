// UTF-8 in both directions, without TextEncoder/TextDecoder (not ECMAScript,
// so not in the pure core).
//
// Validation is Björn Höhrmann's DFA: one table lookup per byte, state kept
// between calls so a message can be validated piece by piece across frames
// and fragments, failing on the first byte that cannot start or continue a
// valid sequence (overlong forms, surrogates and code points above U+10FFFF
// included).

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
 */
export function utf8Validate(state: number, bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  // Fast path: ASCII runs need no table lookups.
  if (state === UTF8_ACCEPT) {
    while (i < end && bytes[i] < 0x80) i++;
  }
  for (; i < end; i++) {
    state = UTF8_TRANSITION[state + UTF8_CLASS[bytes[i]]];
    if (state === UTF8_REJECT) return UTF8_REJECT;
    if (state === UTF8_ACCEPT) {
      while (i + 1 < end && bytes[i + 1] < 0x80) i++;
    }
  }
  return state;
}

export function isValidUtf8(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  return utf8Validate(UTF8_ACCEPT, bytes, start, end) === UTF8_ACCEPT;
}

/**
 * The UTF-8 length of the first `units` UTF-16 code units of `text`.
 * A lone surrogate counts as U+FFFD (3 bytes), as TextEncoder encodes it.
 */
export function utf8Length(text: string, units = text.length): number {
  let bytes = 0;
  for (let i = 0; i < units; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < units && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/**
 * Encodes a string into byte buffers piece by piece, so a text message of any
 * length can be masked straight into a fixed tx buffer without an encoded copy.
 * The encoder remembers where it stopped, including inside a character.
 */
export class Utf8StreamEncoder {
  private text = "";
  private units = 0;
  private index = 0;
  // Bytes of a character that did not fit in the previous call's output.
  private readonly spill = new Uint8Array(4);
  private spillStart = 0;
  private spillEnd = 0;

  reset(text: string, units: number): void {
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
    const text = this.text;
    const units = this.units;
    let i = this.index;
    while (i < units && o < end) {
      let c = text.charCodeAt(i++);
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
          const next = i < units ? text.charCodeAt(i) : 0;
          if (c <= 0xdbff && isLowSurrogate(next)) {
            c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
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
