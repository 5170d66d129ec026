/// <reference path="../../hosts/xs-test/xsnap-globals.d.ts" />
// Bundled into an xsnap worker by tools/bench/deflate.ts: builds protocol
// cores (src/connection.ts) with permessage-deflate agreed at a given window,
// or without it, pushes one compressed message through each so the inflater
// has run (its tables built, its window used), and keeps them alive: the
// Node side reads the live heap before and after.

import { Connection } from "../../src/connection.js";
import { NOTHING_READY } from "../../src/receiver.js";
import { sha1 } from "../../hosts/xs-test/sha1.js";
import { hexToBytes } from "../../test/vectors/runner.js";
import { asciiBytes, asciiJson } from "../../hosts/xs-test/protocol.js";

const kept: Connection[] = [];
const platform = { randomFill: (out: Uint8Array) => out.fill(7), sha1, now: () => 0 };

/** A full collection (xsnap's gc() global). */
export function collect(): void {
  (globalThis as unknown as { gc(): void }).gc();
}

/**
 * Makes `count` open connections (rx and tx `buffer` bytes) with deflate at
 * `bits` (0: none), feeds each `frameHex` (a whole frame) and reads it out.
 * Answers the bytes read per connection.
 */
export function make(bits: number, count: number, buffer: number, frameHex: string): ArrayBuffer {
  const frame = hexToBytes(frameHex);
  const hdr = { fin: false, opcode: -1, payload_len: 0, offset: 0, bytesleft: 0 };
  const out = new Uint8Array(buffer);
  let read = 0;
  for (let i = 0; i < count; i++) {
    const conn = new Connection({
      role: "client", rxBuffer: new Uint8Array(buffer), txBuffer: new Uint8Array(buffer), autoPong: true, maxMessageSize: 0,
      pingInterval: 0, pongTimeout: 1000, closeTimeout: 1000, platform,
      deflate: bits === 0 ? null : { serverMaxWindowBits: bits, serverNoContextTakeover: false, maxInflatedMessage: 0, compress: false },
    });
    if (bits !== 0) conn.deflate = { serverMaxWindowBits: bits, serverNoContextTakeover: false, clientMaxWindowBits: 15, clientNoContextTakeover: false };
    conn.startOpen();
    for (let at = 0; at < frame.length; ) {
      at += conn.receiveData(frame, at);
      for (;;) {
        conn.advance();
        const n = conn.read(hdr, out, 0, buffer);
        if (n === NOTHING_READY || n < 0) break;
        read += n;
      }
    }
    kept.push(conn);
  }
  return asciiBytes(asciiJson({ read: read / count })).buffer as ArrayBuffer;
}

/** Lets every connection go. */
export function drop(): void {
  kept.length = 0;
}
