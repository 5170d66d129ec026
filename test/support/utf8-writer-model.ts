// websock_utf8.c's contract (Utf8Writer, src/text-cursor.ts) modelled in
// JavaScript over UTF-16, so that Node runs the text cursor's writer path
// (core-vectors.test.ts): the sender's vectors through it, at every tx size.
// The native keeps a byte offset into XS's own string in state[0]; the model
// keeps a UTF-16 index there (the cursor never reads that word). Tests only:
// it reads units with charCodeAt, O(1) in V8, O(i) in XS.

import type { Utf8Writer } from "../../src/text-cursor.js";

export const utf8WriterModel: Utf8Writer = {
  write(text: string, state: Uint8Array, out: Uint8Array, start: number, end: number): number {
    if (start < 0 || end < start || end > out.length) throw new RangeError("out[start, end) is outside out");
    const words = new Uint32Array(state.buffer, state.byteOffset, 2);
    let i = words[0];
    let units = words[1];
    let o = start;
    while (units > 0 && i < text.length) {
      let c = text.charCodeAt(i);
      let width = 1;
      if (c >= 0xd800 && c <= 0xdbff && units >= 2 && i + 1 < text.length) {
        const low = text.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
          width = 2;
        }
      }
      // A lone surrogate, or a pair's first half cut by the budget: U+FFFD, as TextEncoder writes it.
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      const n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      if (end - o < n) break;
      if (n === 1) out[o] = c;
      else if (n === 2) {
        out[o] = 0xc0 | (c >> 6);
        out[o + 1] = 0x80 | (c & 0x3f);
      } else if (n === 3) {
        out[o] = 0xe0 | (c >> 12);
        out[o + 1] = 0x80 | ((c >> 6) & 0x3f);
        out[o + 2] = 0x80 | (c & 0x3f);
      } else {
        out[o] = 0xf0 | (c >> 18);
        out[o + 1] = 0x80 | ((c >> 12) & 0x3f);
        out[o + 2] = 0x80 | ((c >> 6) & 0x3f);
        out[o + 3] = 0x80 | (c & 0x3f);
      }
      o += n;
      i += width;
      units -= width;
    }
    if (i >= text.length) units = 0;
    words[0] = i;
    words[1] = units;
    return o - start;
  },
};
