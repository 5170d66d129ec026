// One run: open, then send and receive side by side until one of them ends
// the run, then close normally (websock_close) and report how it ended.
//
// When the run ends:
//  - the server closes (1000/1001/none: exit 0; another code: 7), or the
//    connection fails (the error's exit code);
//  - -n N messages were received;
//  - stdin ends: right away, unless -n is still waiting for messages (then
//    wait for them) or -q says how long to keep receiving;
//  - -n 0: once the -d messages are sent (stdin is not read);
//  - SIGINT.

import type { Readable } from "node:stream";
import { WEBSOCK_ERR, websock_close, websock_get_info, websock_last_error, websock_open, type websock_config_t } from "websock-rfc6455";
import type { CliOptions } from "./args.js";
import { inOptionTerms } from "./config.js";
import { EXIT, outcomeOf, type Outcome } from "./exit-codes.js";
import { headerBlock, type Output } from "./output.js";
import { receiveMessages } from "./receive.js";
import { sendMessages } from "./send.js";

export interface SessionIo {
  stdin: Readable;
  output: Output;
  /** Resolves when the user interrupts (SIGINT). */
  interrupted: Promise<void>;
}

export async function runSession(o: CliOptions, config: websock_config_t, io: SessionIo): Promise<Outcome> {
  const { output } = io;
  // Ctrl-C during the open leaves at once: there is nothing to close yet.
  const h = await Promise.race([websock_open(config), io.interrupted.then(() => "interrupted" as const)]);
  if (h === "interrupted") return { code: EXIT.INTERRUPTED, message: "interrupted" };
  if (h === null) {
    const e = websock_last_error();
    // websock refused the configuration: a bad option value (e.g. a reserved -H header, a PEM file that is not one).
    if (e.code === WEBSOCK_ERR.INVALID_ARG) return { code: EXIT.USAGE, message: inOptionTerms(e.message) };
    return outcomeOf(e);
  }

  const info = websock_get_info(h);
  if (info !== null) {
    if (o.verbose) {
      const tls = info.tls ? `, ${info.tls.version} ${info.tls.cipher}${info.tls.alpn ? ` alpn ${info.tls.alpn}` : ""}` : "";
      output.log(`* connected to ${o.url}: HTTP ${info.http_status}${info.subprotocol ? `, subprotocol ${info.subprotocol}` : ""}${tls}`);
    }
    if (o.showHeaders) await output.write(headerBlock(info));
  }

  // Set once, from the callbacks below.
  let outcome = null as Outcome | null;
  let end!: () => void;
  const ended = new Promise<void>((resolve) => {
    end = resolve;
  });
  /** The first way the run ends is the one reported. */
  const finish = (result: Outcome, why?: string): void => {
    if (outcome !== null) return;
    outcome = result;
    if (o.verbose && why !== undefined) output.log(`* ${why}`);
    end();
  };

  void io.interrupted.then(() => finish({ code: EXIT.INTERRUPTED, message: "interrupted" }, "interrupted: closing"));

  void receiveMessages(h, { raw: o.raw, verbose: o.verbose, count: o.count }, output).then((r) =>
    finish(r, r.code === EXIT.OK && o.count !== undefined ? `${o.count} message(s) received: closing` : undefined),
  );

  void sendMessages(h, { data: o.data, binary: o.binary, split: o.split, verbose: o.verbose, readStdin: o.count !== 0 }, io.stdin, output).then((r) => {
    if (r.kind === "failed") finish(r.outcome);
    if (r.kind !== "done") return;
    if (o.count === 0) finish({ code: EXIT.OK }, "-n 0: closing");
    else if (o.quitAfter !== undefined) {
      // -q: keep receiving for a while (negative: until the server closes or -n is reached).
      if (o.quitAfter >= 0) setTimeout(() => finish({ code: EXIT.OK }, `${o.quitAfter} s after the end of stdin: closing`), o.quitAfter * 1000);
    } else if (o.count === undefined) finish({ code: EXIT.OK }, "stdin ended: closing");
    // else -n N is still waiting for messages.
  });

  await ended;
  // Closes normally (1000) if still open; otherwise completes what the server
  // started. Bounded by close_timeout.
  await websock_close(h);
  return outcome ?? { code: EXIT.OTHER, message: "ended without an outcome" };
}
