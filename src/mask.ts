// RFC 6455 §5.3 masking: payload byte i is XORed with key byte (i mod 4). A key
// is held as a number (its 4 bytes big-endian), not an array: no slots per key. The phase
// (position mod 4) carries across calls so a payload can be masked in pieces.
//
// Masking touches every byte a client sends, so it goes a 32-bit word at a
// time where it can: one load, XOR and store per 4 bytes instead of per
// byte, 5-7x faster in V8 and a quarter of the byte code under XS. Words
// are a Uint32Array over the whole ArrayBuffer the bytes are in, from its
// first byte (wordsOf): word w holds bytes [4w, 4w + 4) of that ArrayBuffer,
// so a view at any offset can use them, and the rx and tx buffers carved
// from one ArrayBuffer share one (a Uint32Array is 4 slots on XS). The owner
// of a fixed buffer makes it once and passes it in. Without one, or for a
// few bytes, the plain byte loop runs.

/** Uint32Array words are little-endian here (true on every target we know; asked, not assumed). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Below this many bytes the byte loop is as fast as setting up words. */
const WORDS_FROM = 16;

/** The words of buf's whole ArrayBuffer, from its first byte, for the `words` arguments below (and utf8Validate's). */
export function wordsOf(buf: Uint8Array): Uint32Array {
  return new Uint32Array(buf.buffer, 0, buf.buffer.byteLength >> 2);
}

/**
 * XORs buf[start, end) with the key from `phase`; returns the phase to continue from.
 * `words`, when given, is wordsOf(buf) (or of any view of the same ArrayBuffer).
 */
export function maskInPlace(buf: Uint8Array, start: number, end: number, key: number, phase: number, words: Uint32Array | null = null): number {
  let i = start;
  if (words !== null && end - start >= WORDS_FROM) {
    // Bytes up to a word boundary of the ArrayBuffer, then whole words (4 bytes: the phase
    // comes back where it was), then the tail. `at` is buf's offset in the ArrayBuffer.
    const at = buf.byteOffset;
    for (; ((at + i) & 3) !== 0; i++) {
      buf[i] ^= keyByte(key, phase);
      phase = (phase + 1) & 3;
    }
    const k = keyWord(key, phase);
    const last = (at + end) >> 2;
    let w = (at + i) >> 2;
    // Four words a step: the loop's own test and increment once per 16 bytes (1.5x in V8).
    for (; w + 4 <= last; w += 4) {
      words[w] ^= k;
      words[w + 1] ^= k;
      words[w + 2] ^= k;
      words[w + 3] ^= k;
    }
    for (; w < last; w++) words[w] ^= k;
    i = (last << 2) - at;
  }
  for (; i < end; i++) {
    buf[i] ^= keyByte(key, phase);
    phase = (phase + 1) & 3;
  }
  return phase;
}

/**
 * out[o, o + n) = src[from, from + n) masked from `phase`; src is not modified.
 * `words`, when given, is wordsOf(out).
 */
export function copyMasked(src: Uint8Array, from: number, out: Uint8Array, o: number, n: number, key: number, phase: number, words: Uint32Array | null = null): void {
  if (words !== null && n >= WORDS_FROM) {
    // src may sit at any alignment, out's words do not: a native copy, then masking in place by words.
    // The whole of src needs no view of it (a view is garbage on XS: 4 slots).
    out.set(from === 0 && n === src.length ? src : src.subarray(from, from + n), o);
    maskInPlace(out, o, o + n, key, phase, words);
    return;
  }
  for (let i = 0; i < n; i++) {
    out[o + i] = src[from + i] ^ keyByte(key, phase);
    phase = (phase + 1) & 3;
  }
}

/** Key byte `phase` of a key held as a number (its 4 bytes big-endian, as on the wire). */
function keyByte(key: number, phase: number): number {
  return (key >>> ((3 - phase) << 3)) & 0xff;
}

/** The 4 key bytes from `phase` on, as the Uint32Array word that holds them in memory order. */
function keyWord(key: number, phase: number): number {
  const b0 = keyByte(key, phase);
  const b1 = keyByte(key, (phase + 1) & 3);
  const b2 = keyByte(key, (phase + 2) & 3);
  const b3 = keyByte(key, (phase + 3) & 3);
  return LITTLE_ENDIAN ? b0 | (b1 << 8) | (b2 << 16) | (b3 << 24) : (b0 << 24) | (b1 << 16) | (b2 << 8) | b3;
}

/** The masking key in buf[at, at + 4) as a number (no array per key: a number costs no slot). */
export function readMaskKey(buf: Uint8Array, at: number): number {
  return ((buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]) >>> 0;
}
