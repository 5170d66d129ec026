// The receiving side: websock_recv in a loop with one 64 KiB buffer, each
// piece of a frame (offset, bytesleft) put back into its message.
// A text message is collected whole and printed as one line once its last
// piece arrived (websock has checked it as UTF-8 by then); a binary message
// is streamed out piece by piece (hex, or raw bytes with --raw), so a large
// one never has to fit in memory.
//
// Pings come here too (the CLI opens with auto_pong: false) and are answered
// here, with the same payload (RFC 6455 §5.5.3), so that -v and -P can show them.

import {
  WEBSOCK_ERR,
  WEBSOCK_OP,
  WEBSOCK_WAIT_FOREVER,
  websock_last_error,
  websock_msg_hdr_init,
  websock_recv,
  websock_send_frame,
  type websock_handle_t,
} from "websock-rfc6455";
import { BUFFER_SIZE } from "./config.js";
import { EXIT, oneLine, outcomeOf, type Asked, type Outcome } from "./exit-codes.js";
import { closeLine, frameLine, type Output } from "./output.js";

export interface ReceiveOptions {
  raw: boolean;
  verbose: boolean;
  /** -P: pings received and pongs sent as lines on stdout. */
  showPingPong: boolean;
  /** Resolve after this many messages; 0: print none and wait for the end; undefined: no limit. */
  count: number | undefined;
  /** Put before each message printed: "< " on a terminal, "" when piped. */
  marker: string;
  /** Called once per complete message. */
  onMessage(): void;
  /**
   * Called once when the run should end while the connection is still open:
   * -n reached, or stdout gone. Receiving goes on, printing nothing, so that
   * the close handshake can complete behind the messages still in flight.
   */
  onDone(outcome: Outcome): void;
  /** Around each message printed: a terminal's prompt is taken down before and put back after. */
  beforePrint?(): void;
  afterPrint?(): void;
  asked: Asked;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** A ping or pong payload as -P shows it: text when it is printable UTF-8, hex otherwise. */
function controlPayload(bytes: Uint8Array): string {
  const text = Buffer.from(bytes).toString("utf8");
  return /^[\x20-\x7e\u00a0-\uffff]*$/.test(text) && !text.includes("\ufffd") ? JSON.stringify(text) : `0x${hex(bytes)}`;
}

/**
 * Prints messages until the connection ends; resolves the outcome of
 * websock's error then (a normal close is EXIT.OK).
 */
export async function receiveMessages(h: websock_handle_t, opts: ReceiveOptions, output: Output): Promise<Outcome> {
  const buf = new Uint8Array(BUFFER_SIZE);
  const hdr = websock_msg_hdr_init();
  let print = opts.count !== 0;
  let done = false;
  const stop = (outcome: Outcome): void => {
    if (done) return;
    done = true;
    print = false;
    opts.onDone(outcome);
  };
  let received = 0;
  // The message in progress: its type (a continuation frame carries opcode 0), and a text message's pieces.
  let messageOpcode: number = WEBSOCK_OP.TEXT;
  let textParts: Uint8Array[] = [];
  let textLength = 0;
  const stdoutGone = (): Outcome | null => {
    if (output.error === null) return null;
    // `| head` has read enough: close normally, say nothing.
    if (output.readerGone) return { code: EXIT.OK, message: undefined };
    return { code: EXIT.OTHER, message: oneLine(`stdout: ${output.error.message}`) };
  };

  for (;;) {
    const n = await websock_recv(h, hdr, buf, buf.length, WEBSOCK_WAIT_FOREVER);
    if (n === WEBSOCK_ERR.RECONNECTED) {
      // --reconnect: a new connection. A message the drop cut is dropped, never joined to the next one's bytes.
      const e = websock_last_error(h);
      if (e.message_cut === true && messageOpcode === WEBSOCK_OP.BINARY && print && !opts.raw) await output.write(NEWLINE);
      textParts = [];
      textLength = 0;
      output.log(`websock: ${oneLine(e.message)}`);
      continue;
    }
    if (n < 0) {
      const e = websock_last_error(h);
      if (e.code === WEBSOCK_ERR.CLOSED_BY_PEER && opts.verbose) {
        output.log(closeLine("<", e.close_code, e.close_reason ?? ""));
        output.log(closeLine(">", e.close_code, "", " (websock's answer)"));
      }
      return outcomeOf(e, opts.asked);
    }
    if (hdr.opcode < 0) continue; // nothing arrived: not an error, call again
    if (hdr.opcode === WEBSOCK_OP.PING) {
      // A control frame is at most 125 bytes (§5.5): it comes whole in this buffer.
      const payload = buf.slice(0, n);
      if (opts.verbose) output.log(frameLine("<", WEBSOCK_OP.PING, n, true));
      const answered = (await websock_send_frame(h, WEBSOCK_OP.PONG, payload, n, true)) === 0;
      if (answered && opts.verbose) output.log(frameLine(">", WEBSOCK_OP.PONG, n, true));
      if (opts.showPingPong && print) {
        opts.beforePrint?.();
        await output.write(`< ping ${controlPayload(payload)}\n${answered ? `> pong ${controlPayload(payload)}\n` : ""}`);
        opts.afterPrint?.();
      }
      continue;
    }
    if (hdr.opcode !== WEBSOCK_OP.CONTINUATION && hdr.opcode !== WEBSOCK_OP.TEXT && hdr.opcode !== WEBSOCK_OP.BINARY) continue;
    if (hdr.offset === 0) {
      if (opts.verbose) output.log(frameLine("<", hdr.opcode, hdr.payload_len, hdr.fin));
      if (hdr.opcode !== WEBSOCK_OP.CONTINUATION) {
        messageOpcode = hdr.opcode;
        // A binary message is printed as it comes; a text one when it is whole.
        if (print && messageOpcode === WEBSOCK_OP.BINARY) {
          opts.beforePrint?.();
          if (opts.marker !== "") await output.write(opts.marker);
        }
      }
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
        opts.beforePrint?.();
        await output.write(Buffer.concat([Buffer.from(opts.marker), text, NEWLINE]));
      } else if (!opts.raw) {
        await output.write(NEWLINE);
      }
      opts.afterPrint?.();
    }
    if (done) continue;
    const gone = stdoutGone();
    if (gone !== null) {
      stop(gone);
      continue;
    }
    received++;
    opts.onMessage();
    if (opts.count !== undefined && opts.count > 0 && received >= opts.count) stop({ code: EXIT.OK });
  }
}

const NEWLINE = Buffer.from("\n");
