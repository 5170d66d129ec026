// The receiving side: websock_recv in a loop with one 64 KiB buffer, each
// piece of a frame (offset, bytesleft) put back into its message.
// A text message is collected whole and printed as one line once its last
// piece arrived (websock has checked it as UTF-8 by then); a binary message
// is streamed out piece by piece (hex, or raw bytes with --raw), so a large
// one never has to fit in memory.

import {
  WEBSOCK_OP,
  WEBSOCK_WAIT_FOREVER,
  websock_last_error,
  websock_msg_hdr_init,
  websock_recv,
  type websock_handle_t,
} from "websock-rfc6455";
import { BUFFER_SIZE } from "./config.js";
import { EXIT, oneLine, outcomeOf, type Outcome } from "./exit-codes.js";
import { frameLine, type Output } from "./output.js";

export interface ReceiveOptions {
  raw: boolean;
  verbose: boolean;
  /** Resolve after this many messages; 0: print none and wait for the end; undefined: no limit. */
  count: number | undefined;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/**
 * Prints messages until `count` arrived (resolves EXIT.OK) or the connection
 * ends (resolves the outcome of websock's error: a normal close is EXIT.OK too).
 */
export async function receiveMessages(h: websock_handle_t, opts: ReceiveOptions, output: Output): Promise<Outcome> {
  const buf = new Uint8Array(BUFFER_SIZE);
  const hdr = websock_msg_hdr_init();
  const print = opts.count !== 0;
  let received = 0;
  // The message in progress: its type (a continuation frame carries opcode 0), and a text message's pieces.
  let messageOpcode: number = WEBSOCK_OP.TEXT;
  let textParts: Uint8Array[] = [];
  let textLength = 0;

  for (;;) {
    const n = await websock_recv(h, hdr, buf, buf.length, WEBSOCK_WAIT_FOREVER);
    if (n < 0) return outcomeOf(websock_last_error(h));
    if (hdr.opcode < 0) continue; // nothing arrived: not an error, call again
    if (hdr.opcode !== WEBSOCK_OP.CONTINUATION && hdr.opcode !== WEBSOCK_OP.TEXT && hdr.opcode !== WEBSOCK_OP.BINARY) continue;
    if (hdr.offset === 0) {
      if (opts.verbose) output.log(frameLine("<", hdr.opcode, hdr.payload_len, hdr.fin));
      if (hdr.opcode !== WEBSOCK_OP.CONTINUATION) messageOpcode = hdr.opcode;
    }
    const piece = buf.subarray(0, n);
    if (messageOpcode === WEBSOCK_OP.TEXT) {
      if (n > 0 && print) {
        textParts.push(piece.slice());
        textLength += n;
      }
    } else if (n > 0 && print) {
      await output.write(opts.raw ? piece : hex(piece));
    }
    if (!hdr.fin || hdr.bytesleft > 0) continue;

    // The message is complete.
    if (print) {
      if (messageOpcode === WEBSOCK_OP.TEXT) {
        const text = Buffer.concat(textParts, textLength);
        textParts = [];
        textLength = 0;
        await output.write(Buffer.concat([text, NEWLINE]));
      } else if (!opts.raw) {
        await output.write(NEWLINE);
      }
    }
    if (output.error !== null) return { code: EXIT.OTHER, message: oneLine(`stdout: ${output.error.message}`) };
    received++;
    if (opts.count !== undefined && opts.count > 0 && received >= opts.count) return { code: EXIT.OK };
  }
}

const NEWLINE = Buffer.from("\n");
