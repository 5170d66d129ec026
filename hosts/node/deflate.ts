// The Node host's compression for permessage-deflate sends (Host.deflate):
// node:zlib's raw deflate, one message at a time.
//
// Each message is compressed on its own (no history kept between messages):
// valid whether or not the server agreed to client context takeover (a
// stream that refers to nothing before it is always decodable), and nothing
// is held between messages. zlib has no raw window of 8 bits (deflateInit2
// refuses it); 9 is used instead, whose distances (at most 2^9 - 262 = 250)
// stay inside a window of 256 bytes, so the server's bound still holds.

import zlib from "node:zlib";
import type { MessageCompressor } from "../../src/host.js";

/** §7.2.1: the 4 bytes a sync flush ends with, removed before sending. */
const TAIL_LENGTH = 4;

export class NodeCompressor implements MessageCompressor {
  private readonly options: zlib.ZlibOptions;

  constructor(windowBits: number) {
    this.options = { windowBits: windowBits < 9 ? 9 : windowBits, finishFlush: zlib.constants.Z_SYNC_FLUSH };
  }

  compress(bytes: Uint8Array, start: number, end: number): Uint8Array {
    const out = zlib.deflateRawSync(bytes.subarray(start, end), this.options);
    // RFC 7692 §7.2.1: "Remove 4 octets (that are 0x00 0x00 0xff 0xff) from the tail end."
    return new Uint8Array(out.buffer, out.byteOffset, out.length - TAIL_LENGTH);
  }
}

export function nodeDeflate(windowBits: number): MessageCompressor {
  return new NodeCompressor(windowBits);
}
