// RFC 7692 §7.2.2 on top of the raw-DEFLATE decoder: one compressed message
// after another, through the receiver's frames.
//
// The receiver feeds each compressed frame's payload as it arrives; at the
// end of the message's last frame the 4 bytes 00 00 ff ff that the sender
// removed (§7.2.1) are fed back, and the decoder must then stand at a block
// boundary. Inflated text is UTF-8-validated as it comes out (RFC 6455 §8.1
// applies to the inflated message), and the inflated length is bounded
// (max_inflated_message: the decompression bomb). Nothing is allocated here
// after the constructor.

import { ERR, type ErrorRow } from "./errors.js";
import { INFLATE_ERROR, INFLATE_WINDOW_FULL, Inflater } from "./inflate.js";
import { UTF8_ACCEPT, UTF8_REJECT, utf8Validate } from "./utf8.js";

/** §7.2.2: "Append 4 octets of 0x00 0x00 0xff 0xff to the tail end of the payload of the message." */
const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

export class MessageInflater {
  readonly inflater: Inflater;
  private readonly noContextTakeover: boolean;
  private readonly maxMessage: number;

  /** The current frame's input is used up and its output inflated: once `pending` is taken, the frame is done. */
  frameDone = false;
  /** Input bytes the last run() used. */
  consumed = 0;
  /** After a failed run(): why, and the detail. */
  failure: ErrorRow | null = null;
  detail = "";

  private tailFed = 0;
  private messageBytes = 0;
  private text = false;
  private utf8State = UTF8_ACCEPT;

  constructor(windowBits: number, noContextTakeover: boolean, maxMessage: number) {
    this.inflater = new Inflater(windowBits);
    this.noContextTakeover = noContextTakeover;
    this.maxMessage = maxMessage;
  }

  /** Inflated bytes waiting to be read. */
  get pending(): number {
    return this.inflater.pending;
  }

  /** A compressed message begins (its first frame had RSV1). */
  startMessage(text: boolean): void {
    // §7.2.2: with no context takeover the server starts each message with an empty window.
    if (this.noContextTakeover) this.inflater.reset();
    // A message that ended its stream with a final block (§7.2.3.4): the next one is a new stream on the same history.
    else if (this.inflater.ended) this.inflater.restart();
    this.tailFed = 0;
    this.messageBytes = 0;
    this.text = text;
    this.utf8State = UTF8_ACCEPT;
  }

  /** A frame of the message begins. */
  startFrame(): void {
    this.frameDone = false;
  }

  /**
   * Inflates input[start, end), which is the rest of the frame's payload when
   * `frameComplete`; `fin`: the frame ends the message. Returns false when the
   * message is broken (failure, detail).
   */
  run(input: Uint8Array, start: number, end: number, frameComplete: boolean, fin: boolean): boolean {
    const inflater = this.inflater;
    const before = inflater.pending;
    let r = inflater.inflate(input, start, end);
    this.consumed = inflater.consumed;
    let fed = this.consumed === end - start;
    if (r !== INFLATE_ERROR && r !== INFLATE_WINDOW_FULL && frameComplete && fed && fin) {
      while (this.tailFed < TAIL.length) {
        r = inflater.inflate(TAIL, this.tailFed, TAIL.length);
        this.tailFed += inflater.consumed;
        if (r === INFLATE_ERROR || r === INFLATE_WINDOW_FULL) break;
      }
      fed = this.tailFed === TAIL.length;
    }
    if (r === INFLATE_ERROR) {
      return this.fail(inflater.errorIsDistance ? ERR.INFLATE_DISTANCE : ERR.INFLATE_CORRUPT, inflater.error);
    }
    const produced = inflater.pending - before;
    if (produced > 0) {
      this.messageBytes += produced;
      if (this.maxMessage > 0 && this.messageBytes > this.maxMessage) {
        return this.fail(ERR.INFLATED_TOO_BIG, `more than ${this.maxMessage} bytes inflated`);
      }
      // RFC 6455 §8.1: the inflated text must be UTF-8; fail as soon as it is not.
      if (this.text && !this.validate(produced)) return this.fail(ERR.INVALID_UTF8, "the inflated text is not valid UTF-8");
    }
    if (!frameComplete || !fed || r === INFLATE_WINDOW_FULL) return true;
    if (fin) {
      // §7.2.2: with the tail appended the message ends on a block boundary (an empty stored
      // block, or a final block): anything else is a truncated or broken stream.
      if (!inflater.atBlockBoundary) return this.fail(ERR.INFLATE_CORRUPT, "the message does not end on a flushed block");
      if (this.text && this.utf8State !== UTF8_ACCEPT) return this.fail(ERR.INVALID_UTF8, "the inflated text ends inside a character");
    }
    this.frameDone = true;
    return true;
  }

  /** Validates the last `n` bytes decoded (they end at the window's write position). */
  private validate(n: number): boolean {
    const inflater = this.inflater;
    const window = inflater.window;
    let start = (inflater.contiguousStart + inflater.pending - n) & (window.length - 1);
    let left = n;
    while (left > 0) {
      const run = window.length - start < left ? window.length - start : left;
      this.utf8State = utf8Validate(this.utf8State, window, start, start + run);
      if (this.utf8State === UTF8_REJECT) return false;
      left -= run;
      start = 0;
    }
    return true;
  }

  private fail(error: ErrorRow, detail: string): boolean {
    this.failure = error;
    this.detail = detail;
    return false;
  }
}
