// A streaming raw-DEFLATE decoder (RFC 1951) with a bounded window.
//
// Everything it holds is allocated once, in the constructor: the window of
// 2^windowBits bytes and the Huffman tables as typed arrays. Decoded bytes go
// into the window (a ring), which is both the LZ77 history back-references
// copy from and the output waiting to be taken: take() copies the oldest
// bytes not taken yet into a caller's Uint8Array range (or contiguous() and
// consume() hand them out in place). Decoding stops when every byte of the
// window is waiting to be taken (nothing may be overwritten that the caller
// has not seen) or when the input runs out, and resumes where it stopped on
// the next call, in the middle of a symbol, a back-reference or a stored
// block: the input may arrive in pieces of any size, one byte included.
//
// Codes are looked up a few bits at a time in a small first-level table
// (FAST_BITS), and longer codes (and the last bits before the input runs out)
// are decoded canonically bit by bit, after puff.c: fast where codes are
// short, small everywhere, and never dependent on bits that have not arrived.
//
// It never throws on input: a malformed stream is INFLATE_ERROR with `error`
// saying what was wrong (the messages are zlib's, so a fuzzer can compare).

/** The input is used up (decoding goes on when more arrives). */
export const INFLATE_NEED_INPUT = 0;
/** The window is full of bytes not taken yet: take some, then call again. */
export const INFLATE_WINDOW_FULL = 1;
/** A final block (BFINAL) ended: the stream is over; restart() begins another. */
export const INFLATE_STREAM_END = 2;
/** The stream is malformed: `error` says how, `errorIsDistance` whether a back-reference reached too far. */
export const INFLATE_ERROR = -1;

export const MIN_WINDOW_BITS = 8;
export const MAX_WINDOW_BITS = 15;

// Decoder states, named after what they wait for.
const WAIT_BLOCK_HEADER = 0; // BFINAL and BTYPE
const WAIT_STORED_LENGTHS = 1; // LEN and NLEN of a stored block
const IN_STORED = 2; // a stored block's bytes
const WAIT_TABLE_SIZES = 3; // HLIT, HDIST, HCLEN
const WAIT_CODE_LENGTH_LENGTHS = 4; // the code length code's 3-bit lengths
const WAIT_CODE_LENGTHS = 5; // the literal/length and distance code lengths
const WAIT_REPEAT = 6; // the extra bits of a code length repeat (16, 17, 18)
const WAIT_LITLEN = 7; // a literal/length symbol
const WAIT_LENGTH_EXTRA = 8; // a length's extra bits
const WAIT_DISTANCE = 9; // a distance symbol
const WAIT_DISTANCE_EXTRA = 10; // a distance's extra bits
const IN_COPY = 11; // a back-reference being copied
const STREAM_DONE = 12; // after the final block
const FAILED = 13;

/** First-level lookup widths: codes this long or shorter are found in one step. */
const LITLEN_FAST_BITS = 9;
const DISTANCE_FAST_BITS = 7;
const MAX_CODE_BITS = 15;

// RFC 1951 §3.2.5: lengths 3..258 and distances 1..32768 as base + extra bits.
const LENGTH_BASE = new Uint16Array([
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
]);
const LENGTH_EXTRA = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]);
const DISTANCE_BASE = new Uint16Array([
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
  8193, 12289, 16385, 24577,
]);
const DISTANCE_EXTRA = new Uint8Array([0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]);
/** §3.2.7: the order in which the code length code's lengths are sent. */
const CODE_LENGTH_ORDER = new Uint8Array([16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]);

/** What decodeSymbol returns besides a symbol. */
const NEED_BITS = -1;
const BAD_CODE = -2;
/** Why the literal loop stopped, besides a length or end-of-block symbol (>= 256). */
const STOP_NEED_BITS = -1;
const STOP_BAD_CODE = -2;
const STOP_WINDOW_FULL = -3;
const LITLEN_FAST_MASK = (1 << LITLEN_FAST_BITS) - 1;

/**
 * One canonical Huffman code: counts per length and symbols in code order
 * (puff.c's form) for the bit-by-bit path, and a first-level table indexed by
 * the next FAST bits (LSB first), each entry symbol << 4 | length, 0 for a
 * code longer than the table (or none).
 */
class HuffmanCode {
  readonly count = new Uint16Array(MAX_CODE_BITS + 1);
  readonly symbols: Uint16Array;
  readonly fast: Uint16Array;
  readonly fastBits: number;
  private readonly offsets = new Uint16Array(MAX_CODE_BITS + 2);

  constructor(maxSymbols: number, fastBits: number) {
    this.symbols = new Uint16Array(maxSymbols);
    this.fastBits = fastBits;
    this.fast = new Uint16Array(1 << fastBits);
  }

  /**
   * Builds the code from lengths[start, start + n). Returns "" or why the
   * lengths make no valid code (zlib's rules: over-subscribed never;
   * incomplete only when `incompleteOk` and the only code is one bit long).
   */
  build(lengths: Uint8Array, start: number, n: number, incompleteOk: boolean): string {
    const count = this.count;
    count.fill(0);
    for (let i = 0; i < n; i++) count[lengths[start + i]]++;
    let max = MAX_CODE_BITS;
    while (max > 0 && count[max] === 0) max--;
    count[0] = 0;
    let left = 1;
    for (let len = 1; len <= MAX_CODE_BITS; len++) {
      left <<= 1;
      left -= count[len];
      if (left < 0) return "over-subscribed";
    }
    if (left > 0 && max > 0 && !(incompleteOk && max === 1)) return "incomplete";
    // Symbols sorted by length, then by value: the canonical order of §3.2.2.
    const offsets = this.offsets;
    offsets[1] = 0;
    for (let len = 1; len <= MAX_CODE_BITS; len++) offsets[len + 1] = offsets[len] + count[len];
    for (let i = 0; i < n; i++) {
      const len = lengths[start + i];
      if (len !== 0) this.symbols[offsets[len]++] = i;
    }
    // The first-level table: each code of at most fastBits bits, bit-reversed
    // (Huffman codes are sent most significant bit first), fills every slot
    // whose low bits are that code.
    const fast = this.fast;
    fast.fill(0);
    const fastBits = this.fastBits;
    const size = 1 << fastBits;
    let code = 0;
    let index = 0;
    for (let len = 1; len <= fastBits; len++) {
      for (let k = 0; k < count[len]; k++) {
        const symbol = this.symbols[index++];
        let reversed = 0;
        for (let b = 0; b < len; b++) reversed |= ((code >> b) & 1) << (len - 1 - b);
        const entry = (symbol << 4) | len;
        for (let slot = reversed; slot < size; slot += 1 << len) fast[slot] = entry;
        code++;
      }
      code <<= 1;
    }
    return "";
  }
}

export class Inflater {
  /** The ring of decoded bytes: the LZ77 history and the output waiting to be taken. */
  readonly window: Uint8Array;
  readonly windowBits: number;
  private readonly windowMask: number;
  /** Where the next decoded byte goes. */
  private writeAt = 0;
  /** Decoded bytes not taken yet: they end at writeAt. */
  pending = 0;
  /** Decoded bytes a back-reference may reach (at most the window's size): 0 at the start of a stream or context. */
  private history = 0;

  /** Bits not used yet, least significant first, and how many. */
  private bitBuffer = 0;
  private bitCount = 0;

  private state = WAIT_BLOCK_HEADER;
  private finalBlock = false;
  /** Why the stream is malformed, after INFLATE_ERROR. */
  error = "";
  /** The error is a back-reference beyond the window or before the history's start. */
  errorIsDistance = false;

  // The block being decoded.
  private storedLeft = 0;
  private literalCount = 0;
  private distanceCount = 0;
  private codeLengthCount = 0;
  private lengthsRead = 0;
  private repeatSymbol = 0;
  private copyLength = 0;
  private copyDistance = 0;
  private lengthExtra = 0;
  private distanceExtra = 0;
  /** The tables hold the fixed codes of §3.2.6 (rebuilt only when a dynamic block replaced them). */
  private fixedLoaded = false;

  /** Literal/length and distance code lengths as read (a dynamic block's header), and the codes. */
  private readonly lengths = new Uint8Array(288 + 32);
  private readonly litlen = new HuffmanCode(288, LITLEN_FAST_BITS);
  private readonly distance = new HuffmanCode(32, DISTANCE_FAST_BITS);

  /** Bytes of input used by the last inflate(). */
  consumed = 0;

  constructor(windowBits: number) {
    this.windowBits = windowBits;
    this.window = new Uint8Array(1 << windowBits);
    this.windowMask = (1 << windowBits) - 1;
  }

  /** Whether decoding stopped inside the stream's last block or after it (for the end of a message). */
  get atBlockBoundary(): boolean {
    return this.state === WAIT_BLOCK_HEADER || this.state === STREAM_DONE;
  }

  get ended(): boolean {
    return this.state === STREAM_DONE;
  }

  /** Starts a new stream, keeping the history (a new message with context takeover after a final block). */
  restart(): void {
    this.state = WAIT_BLOCK_HEADER;
    this.bitBuffer = 0;
    this.bitCount = 0;
  }

  /** Starts a new stream and forgets the history (no context takeover; a fresh stream). */
  reset(): void {
    this.restart();
    this.history = 0;
    this.pending = 0;
    this.writeAt = 0;
    this.error = "";
    this.errorIsDistance = false;
  }

  /** The oldest bytes not taken yet that sit in one run of the window: window[contiguousStart, + contiguous()). */
  get contiguousStart(): number {
    return (this.writeAt - this.pending) & this.windowMask;
  }

  contiguous(): number {
    const start = this.contiguousStart;
    const run = this.window.length - start;
    return this.pending < run ? this.pending : run;
  }

  /** The caller has used n bytes handed out in place. */
  consume(n: number): void {
    this.pending -= n;
  }

  /** Copies the oldest n (<= pending) bytes not taken yet to out[outStart...]. */
  take(out: Uint8Array, outStart: number, n: number): void {
    const window = this.window;
    let start = this.contiguousStart;
    let done = 0;
    while (done < n) {
      const run = window.length - start;
      const k = n - done < run ? n - done : run;
      out.set(new Uint8Array(window.buffer, window.byteOffset + start, k), outStart + done);
      done += k;
      start = 0;
    }
    this.pending -= n;
  }

  /**
   * Decodes input[start, end) into the window, as far as the input and the
   * window's free room allow. Returns INFLATE_* ; `consumed` says how many
   * input bytes were used (the decoder keeps at most 4 of them as bits).
   */
  inflate(input: Uint8Array, start: number, end: number): number {
    let at = start;
    let bits = this.bitBuffer;
    let count = this.bitCount;
    const window = this.window;
    const mask = this.windowMask;
    const size = window.length;
    let result = INFLATE_NEED_INPUT;
    // The bit buffer is refilled a byte at a time, at most to 32 bits.
    loop: for (;;) {
      switch (this.state) {
        case WAIT_BLOCK_HEADER: {
          while (count < 3 && at < end) {
            bits |= input[at++] << count;
            count += 8;
          }
          if (count < 3) break loop;
          this.finalBlock = (bits & 1) !== 0;
          const type = (bits >>> 1) & 3;
          bits >>>= 3;
          count -= 3;
          if (type === 0) {
            // §3.2.4: a stored block skips to the next byte boundary.
            bits >>>= count & 7;
            count -= count & 7;
            this.state = WAIT_STORED_LENGTHS;
          } else if (type === 1) {
            if (!this.fixedLoaded) this.loadFixed();
            this.state = WAIT_LITLEN;
          } else if (type === 2) {
            this.fixedLoaded = false;
            this.state = WAIT_TABLE_SIZES;
          } else {
            result = this.fail("invalid block type");
            break loop;
          }
          break;
        }
        case WAIT_STORED_LENGTHS: {
          while (count < 32 && at < end) {
            bits |= input[at++] << count;
            count += 8;
          }
          if (count < 32) break loop;
          const len = bits & 0xffff;
          const nlen = (bits >>> 16) & 0xffff;
          bits = 0;
          count = 0;
          // §3.2.4: NLEN is the one's complement of LEN.
          if (len !== (~nlen & 0xffff)) {
            result = this.fail("invalid stored block lengths");
            break loop;
          }
          this.storedLeft = len;
          this.state = len === 0 ? this.afterBlock() : IN_STORED;
          break;
        }
        case IN_STORED: {
          // The bit buffer is empty here (the lengths took it whole): bytes come straight from the input.
          let n = this.storedLeft;
          const room = size - this.pending;
          if (room < n) n = room;
          if (end - at < n) n = end - at;
          let done = 0;
          while (done < n) {
            const run = size - this.writeAt;
            const k = n - done < run ? n - done : run;
            window.set(new Uint8Array(input.buffer, input.byteOffset + at + done, k), this.writeAt);
            this.writeAt = (this.writeAt + k) & mask;
            done += k;
          }
          at += n;
          this.wrote(n);
          this.storedLeft -= n;
          if (this.storedLeft === 0) {
            this.state = this.afterBlock();
            break;
          }
          result = this.pending === size ? INFLATE_WINDOW_FULL : INFLATE_NEED_INPUT;
          break loop;
        }
        case WAIT_TABLE_SIZES: {
          while (count < 14 && at < end) {
            bits |= input[at++] << count;
            count += 8;
          }
          if (count < 14) break loop;
          this.literalCount = (bits & 31) + 257;
          this.distanceCount = ((bits >>> 5) & 31) + 1;
          this.codeLengthCount = ((bits >>> 10) & 15) + 4;
          bits >>>= 14;
          count -= 14;
          if (this.literalCount > 286 || this.distanceCount > 30) {
            result = this.fail("too many length or distance symbols");
            break loop;
          }
          this.lengthsRead = 0;
          this.lengths.fill(0, 0, 19);
          this.state = WAIT_CODE_LENGTH_LENGTHS;
          break;
        }
        case WAIT_CODE_LENGTH_LENGTHS: {
          while (this.lengthsRead < this.codeLengthCount) {
            while (count < 3 && at < end) {
              bits |= input[at++] << count;
              count += 8;
            }
            if (count < 3) break loop;
            this.lengths[CODE_LENGTH_ORDER[this.lengthsRead++]] = bits & 7;
            bits >>>= 3;
            count -= 3;
          }
          // The code length code is kept in the literal/length tables until the lengths are read.
          if (this.litlen.build(this.lengths, 0, 19, false) !== "") {
            result = this.fail("invalid code lengths set");
            break loop;
          }
          this.lengthsRead = 0;
          this.state = WAIT_CODE_LENGTHS;
          break;
        }
        case WAIT_CODE_LENGTHS: {
          const total = this.literalCount + this.distanceCount;
          const code = this.litlen;
          const lengths = this.lengths;
          while (this.lengthsRead < total) {
            while (count < 24 && at < end) {
              bits |= input[at++] << count;
              count += 8;
            }
            const symbol = decodeSymbol(code, bits, count);
            if (symbol === NEED_BITS) break loop;
            if (symbol === BAD_CODE) {
              result = this.fail("invalid code lengths set");
              break loop;
            }
            const used = symbol >>> 16;
            const value = symbol & 0xffff;
            bits >>>= used;
            count -= used;
            if (value < 16) {
              lengths[this.lengthsRead++] = value;
              continue;
            }
            if (value === 16 && this.lengthsRead === 0) {
              result = this.fail("invalid bit length repeat");
              break loop;
            }
            this.repeatSymbol = value;
            this.state = WAIT_REPEAT;
            continue loop;
          }
          // §3.2.7: the end-of-block code must exist, or no block could end.
          if (lengths[256] === 0) {
            result = this.fail("invalid code -- missing end-of-block");
            break loop;
          }
          if (this.litlen.build(lengths, 0, this.literalCount, true) !== "") {
            result = this.fail("invalid literal/lengths set");
            break loop;
          }
          if (this.distance.build(lengths, this.literalCount, this.distanceCount, true) !== "") {
            result = this.fail("invalid distances set");
            break loop;
          }
          this.state = WAIT_LITLEN;
          break;
        }
        case WAIT_REPEAT: {
          const symbol = this.repeatSymbol;
          const extra = symbol === 16 ? 2 : symbol === 17 ? 3 : 7;
          while (count < extra && at < end) {
            bits |= input[at++] << count;
            count += 8;
          }
          if (count < extra) break loop;
          const times = (symbol === 16 ? 3 : symbol === 17 ? 3 : 11) + (bits & ((1 << extra) - 1));
          bits >>>= extra;
          count -= extra;
          if (this.lengthsRead + times > this.literalCount + this.distanceCount) {
            result = this.fail("invalid bit length repeat");
            break loop;
          }
          const value = symbol === 16 ? this.lengths[this.lengthsRead - 1] : 0;
          this.lengths.fill(value, this.lengthsRead, this.lengthsRead + times);
          this.lengthsRead += times;
          this.state = WAIT_CODE_LENGTHS;
          break;
        }
        case WAIT_LITLEN: {
          // The hot loop: literals straight into the window while there is room, the
          // window's counters in locals, the first-level lookup inline.
          const code = this.litlen;
          const fast = code.fast;
          let writeAt = this.writeAt;
          let pending = this.pending;
          const pendingBefore = pending;
          let stop: number;
          for (;;) {
            if (pending === size) {
              stop = STOP_WINDOW_FULL;
              break;
            }
            while (count < 24 && at < end) {
              bits |= input[at++] << count;
              count += 8;
            }
            let used: number;
            let value: number;
            const entry = fast[bits & LITLEN_FAST_MASK];
            if (entry !== 0 && (entry & 15) <= count) {
              used = entry & 15;
              value = entry >>> 4;
            } else {
              const symbol = decodeSymbol(code, bits, count);
              if (symbol < 0) {
                stop = symbol === NEED_BITS ? STOP_NEED_BITS : STOP_BAD_CODE;
                break;
              }
              used = symbol >>> 16;
              value = symbol & 0xffff;
            }
            bits >>>= used;
            count -= used;
            if (value >= 256) {
              stop = value;
              break;
            }
            window[writeAt] = value;
            writeAt = (writeAt + 1) & mask;
            pending++;
          }
          this.writeAt = writeAt;
          this.pending = pending;
          const history = this.history + (pending - pendingBefore);
          this.history = history < size ? history : size;
          if (stop === STOP_WINDOW_FULL) {
            result = INFLATE_WINDOW_FULL;
            break loop;
          }
          if (stop === STOP_NEED_BITS) break loop;
          if (stop === STOP_BAD_CODE) {
            result = this.fail("invalid literal/length code");
            break loop;
          }
          if (stop === 256) {
            this.state = this.afterBlock();
            break;
          }
          const index = stop - 257;
          if (index >= 29) {
            result = this.fail("invalid literal/length code");
            break loop;
          }
          this.copyLength = LENGTH_BASE[index];
          this.lengthExtra = LENGTH_EXTRA[index];
          this.state = WAIT_LENGTH_EXTRA;
          break;
        }
        case WAIT_LENGTH_EXTRA: {
          const extra = this.lengthExtra;
          while (count < extra && at < end) {
            bits |= input[at++] << count;
            count += 8;
          }
          if (count < extra) break loop;
          this.copyLength += bits & ((1 << extra) - 1);
          bits >>>= extra;
          count -= extra;
          this.state = WAIT_DISTANCE;
          break;
        }
        case WAIT_DISTANCE: {
          while (count < 24 && at < end) {
            bits |= input[at++] << count;
            count += 8;
          }
          const symbol = decodeSymbol(this.distance, bits, count);
          if (symbol === NEED_BITS) break loop;
          const value = symbol & 0xffff;
          if (symbol === BAD_CODE || value >= 30) {
            result = this.fail("invalid distance code");
            break loop;
          }
          const used = symbol >>> 16;
          bits >>>= used;
          count -= used;
          this.copyDistance = DISTANCE_BASE[value];
          this.distanceExtra = DISTANCE_EXTRA[value];
          this.state = WAIT_DISTANCE_EXTRA;
          break;
        }
        case WAIT_DISTANCE_EXTRA: {
          const extra = this.distanceExtra;
          while (count < extra && at < end) {
            bits |= input[at++] << count;
            count += 8;
          }
          if (count < extra) break loop;
          this.copyDistance += bits & ((1 << extra) - 1);
          bits >>>= extra;
          count -= extra;
          // RFC 7692 §7.1.2.1: the server's LZ77 window is at most 2^server_max_window_bits,
          // so a distance beyond the window is a broken (or hostile) stream.
          if (this.copyDistance > size) {
            result = this.fail(`invalid distance too far back: ${this.copyDistance} beyond the window of ${size} bytes`, true);
            break loop;
          }
          if (this.copyDistance > this.history) {
            result = this.fail("invalid distance too far back", true);
            break loop;
          }
          this.state = IN_COPY;
          break;
        }
        case IN_COPY: {
          const room = size - this.pending;
          let n = this.copyLength;
          if (room < n) n = room;
          let from = (this.writeAt - this.copyDistance) & mask;
          let to = this.writeAt;
          if (this.copyDistance >= n && from + n <= size && to + n <= size) {
            // Source and destination apart and neither wrapping: one block move.
            window.copyWithin(to, from, from + n);
            to = (to + n) & mask;
          } else {
            // Overlapping (a run: distance < length) or wrapping: byte by byte, as §3.2.3 defines the copy.
            for (let i = 0; i < n; i++) {
              window[to] = window[from];
              to = (to + 1) & mask;
              from = (from + 1) & mask;
            }
          }
          this.writeAt = to;
          this.wrote(n);
          this.copyLength -= n;
          if (this.copyLength > 0) {
            result = INFLATE_WINDOW_FULL;
            break loop;
          }
          this.state = WAIT_LITLEN;
          break;
        }
        case STREAM_DONE:
          // Bytes after the final block are not part of the stream: they are used up and ignored.
          at = end;
          result = INFLATE_STREAM_END;
          break loop;
        default:
          result = INFLATE_ERROR;
          break loop;
      }
    }
    this.bitBuffer = bits;
    this.bitCount = count;
    this.consumed = at - start;
    if (result === INFLATE_NEED_INPUT && this.state === STREAM_DONE) result = INFLATE_STREAM_END;
    return result;
  }

  /** After a block's end: the next block, or the stream's end after a final one. */
  private afterBlock(): number {
    return this.finalBlock ? STREAM_DONE : WAIT_BLOCK_HEADER;
  }

  private wrote(n: number): void {
    this.pending += n;
    this.history = this.history + n < this.window.length ? this.history + n : this.window.length;
  }

  /** §3.2.6: the fixed literal/length and distance codes. */
  private loadFixed(): void {
    const lengths = this.lengths;
    lengths.fill(8, 0, 144);
    lengths.fill(9, 144, 256);
    lengths.fill(7, 256, 280);
    lengths.fill(8, 280, 288);
    this.litlen.build(lengths, 0, 288, false);
    lengths.fill(5, 0, 32);
    this.distance.build(lengths, 0, 32, false);
    this.fixedLoaded = true;
  }

  private fail(error: string, distance = false): number {
    this.state = FAILED;
    this.error = error;
    this.errorIsDistance = distance;
    return INFLATE_ERROR;
  }
}

/**
 * The next symbol of `code` from the low bits of `bits` (`count` of them
 * valid): (bits used << 16) | symbol, NEED_BITS when the code is longer than
 * the bits there are, BAD_CODE when no code matches.
 */
function decodeSymbol(code: HuffmanCode, bits: number, count: number): number {
  const entry = code.fast[bits & ((1 << code.fastBits) - 1)];
  if (entry !== 0) {
    const len = entry & 15;
    return len <= count ? (len << 16) | (entry >>> 4) : NEED_BITS;
  }
  // Longer than the first-level table: canonical decoding, one bit at a time (puff.c's decode()).
  const counts = code.count;
  let value = 0;
  let first = 0;
  let index = 0;
  for (let len = 1; len <= MAX_CODE_BITS; len++) {
    if (len > count) return NEED_BITS;
    value |= (bits >>> (len - 1)) & 1;
    const n = counts[len];
    if (value - n < first) return (len << 16) | code.symbols[index + (value - first)];
    index += n;
    first += n;
    first <<= 1;
    value <<= 1;
  }
  return BAD_CODE;
}
