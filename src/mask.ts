// RFC 6455 §5.3 masking: payload byte i is XORed with key[i mod 4]. The phase
// (position mod 4) carries across calls so a payload can be masked in pieces.

/** XORs buf[start, end) with the key from `phase`; returns the phase to continue from. */
export function maskInPlace(buf: Uint8Array, start: number, end: number, key: Uint8Array, phase: number): number {
  for (let i = start; i < end; i++) {
    buf[i] ^= key[phase];
    phase = (phase + 1) & 3;
  }
  return phase;
}

/** out[o, o + n) = src[from, from + n) masked from `phase`; src is not modified. */
export function copyMasked(src: Uint8Array, from: number, out: Uint8Array, o: number, n: number, key: Uint8Array, phase: number): void {
  for (let i = 0; i < n; i++) {
    out[o + i] = src[from + i] ^ key[phase];
    phase = (phase + 1) & 3;
  }
}
