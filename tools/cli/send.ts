// The sending side: the -d messages, then stdin, one message at a time (the
// next is read only once the last was taken by the socket, so a fast stdin
// is held back by a slow connection).

import type { Readable } from "node:stream";
import { WEBSOCK_ERR, WEBSOCK_OP, websock_last_error, websock_send_binary, websock_send_text, type websock_handle_t } from "websock-rfc6455";
import { EXIT, oneLine, type Outcome } from "./exit-codes.js";
import { lines, whole } from "./input.js";
import { frameLine, type Output } from "./output.js";

export interface SendOptions {
  data: string[];
  binary: boolean;
  split: boolean;
  verbose: boolean;
  /** Read stdin after the -d messages (false with -n 0). */
  readStdin: boolean;
  /** Called once per message sent. */
  onSent(): void;
}

/**
 * How sending ended: "done" when the input ran out; "stopped" when the
 * connection is ending (the receiving side reports why); "close" when the
 * user asked to close with a code (/close on a terminal); or a failure.
 */
export type SendResult =
  | { kind: "done" }
  | { kind: "stopped" }
  | { kind: "close"; code: number; reason: string }
  | { kind: "failed"; outcome: Outcome };

export async function sendMessages(h: websock_handle_t, opts: SendOptions, stdin: Readable, output: Output): Promise<SendResult> {
  const send = async (payload: string | Uint8Array, what: () => string): Promise<SendResult | null> => {
    const bytes = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
    const opcode = opts.binary ? WEBSOCK_OP.BINARY : WEBSOCK_OP.TEXT;
    const r = opts.binary ? await websock_send_binary(h, bytes) : await websock_send_text(h, payload);
    if (r === 0) {
      if (opts.verbose) output.log(frameLine(">", opcode, bytes.length, true));
      opts.onSent();
      return null;
    }
    if (r === WEBSOCK_ERR.INVALID_ARG) {
      const why = websock_last_error(h).message.replace(/^invalid argument: /, "");
      const hint = why.includes("UTF-8") ? " (send bytes with --binary)" : "";
      return { kind: "failed", outcome: { code: EXIT.OTHER, message: oneLine(`${what()}: ${why}${hint}`) } };
    }
    return { kind: "stopped" };
  };

  for (let i = 0; i < opts.data.length; i++) {
    const stop = await send(opts.data[i], () => `-d #${i + 1}`);
    if (stop !== null) return stop;
  }
  if (!opts.readStdin) return { kind: "done" };

  let line = 0;
  try {
    for await (const message of opts.split ? lines(stdin) : whole(stdin)) {
      line++;
      const stop = await send(message, () => (opts.split ? `stdin line ${line}` : "stdin"));
      if (stop !== null) return stop;
    }
  } catch (e) {
    return { kind: "failed", outcome: { code: EXIT.OTHER, message: oneLine(`stdin: ${(e as Error).message}`) } };
  }
  return { kind: "done" };
}
