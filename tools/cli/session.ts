// One run: open, then send and receive side by side until one of them ends
// the run, then close normally (websock_close) and report how it ended.
//
// When the run ends:
//  - the server closes (1000/1001/none: exit 0; another code: 7), or the
//    connection fails (the error's exit code);
//  - -n N messages were received;
//  - stdin ends: then wait for the replies, one message received per message
//    sent, at most -w seconds (default 2); -n N waits for its N messages
//    instead, -q for as long as it says;
//  - -n 0: once the -d messages are sent (stdin is not read);
//  - /close on a terminal; SIGINT.
// Then websock closes, waiting up to --close-timeout for the server's answer:
// none in that time is exit 8.

import type { Readable, Writable } from "node:stream";
import { WEBSOCK_ERR, websock_close_with_code, websock_get_info, websock_last_error, websock_open, type websock_config_t } from "websock-rfc6455";
import type { CliOptions } from "./args.js";
import { inOptionTerms } from "./config.js";
import { refusedResponse, speaksPlainHttp, speaksTls } from "./diagnose.js";
import { EXIT, outcomeOf, type Asked, type Outcome } from "./exit-codes.js";
import { openTerminal, type Terminal } from "./interactive.js";
import { closeLine, headerBlock, type Output } from "./output.js";
import { receiveMessages } from "./receive.js";
import { sendMessages, type SendResult } from "./send.js";

export interface SessionIo {
  stdin: Readable;
  stdout: Writable;
  output: Output;
  /** Resolves when the user interrupts (SIGINT). */
  interrupted: Promise<void>;
  /** stdin and stdout are both a terminal: prompt, markers, slash commands. */
  interactive: boolean;
}

/** websock's default close_timeout, in ms (websock_config_t). */
const DEFAULT_CLOSE_TIMEOUT_MS = 5000;

/** A failed open, in the user's words, with what a second look at the server tells. */
async function openFailure(o: CliOptions, config: websock_config_t, asked: Asked, output: Output): Promise<Outcome> {
  const e = websock_last_error();
  // websock refused the configuration: a bad option value (e.g. a reserved -H header, a PEM file that is not one).
  if (e.code === WEBSOCK_ERR.INVALID_ARG) return { code: EXIT.USAGE, message: inOptionTerms(e.message) };
  const outcome = outcomeOf(e, asked);
  const port = config.port ?? (config.secured ? 443 : 80);
  // Through a proxy, or after redirects, a second look from here would ask elsewhere: the error's own details are shown.
  const direct = config.proxy === undefined && !o.location;
  if (e.code === WEBSOCK_ERR.HTTP_STATUS && !direct) {
    if (e.www_authenticate !== undefined) return { ...outcome, details: [`WWW-Authenticate: ${e.www_authenticate}`] };
  } else if (e.code === WEBSOCK_ERR.HTTP_STATUS) {
    if (o.verbose) output.log("* asking once more, with node:http, to show the response");
    const lines = await refusedResponse(config);
    if (lines !== null) return { ...outcome, details: lines };
  } else if (direct && !config.secured && (e.code === WEBSOCK_ERR.HANDSHAKE_EOF || e.code === WEBSOCK_ERR.BAD_RESPONSE)) {
    if (await speaksTls(config.hostname, port)) return { ...outcome, message: `${outcome.message} (port ${port} speaks TLS: use wss://)` };
  } else if (direct && config.secured && e.code === WEBSOCK_ERR.TLS && (e.tls_reason === "handshake" || e.tls_reason === "protocol_version")) {
    if (await speaksPlainHttp(config)) return { ...outcome, message: `${outcome.message} (port ${port} speaks plain HTTP, not TLS: use ws://)` };
  }
  return outcome;
}

export async function runSession(o: CliOptions, config: websock_config_t, io: SessionIo): Promise<Outcome> {
  const { output } = io;
  const asked: Asked = { timeout: o.timeout, pongTimeout: o.pongTimeout };
  // Ctrl-C during the open leaves at once: there is nothing to close yet.
  const h = await Promise.race([websock_open(config), io.interrupted.then(() => "interrupted" as const)]);
  if (h === "interrupted") return { code: EXIT.INTERRUPTED, message: "interrupted" };
  if (h === null) return openFailure(o, config, asked, output);

  const info = websock_get_info(h);
  if (info !== null) {
    if (o.verbose) {
      const tls = info.tls ? `, ${info.tls.version} ${info.tls.cipher}${info.tls.alpn ? ` alpn ${info.tls.alpn}` : ""}` : "";
      const redirected = info.redirects ? ` after ${info.redirects} redirect${info.redirects > 1 ? "s" : ""}` : "";
      const via = config.proxy !== undefined ? ` through the proxy ${config.proxy.replace(/\/\/[^@/]*@/, "//")}` : "";
      output.log(`* connected to ${info.url ?? o.url}${redirected}${via}: HTTP ${info.http_status}${info.subprotocol ? `, subprotocol ${info.subprotocol}` : ""}${tls}`);
    }
    if (o.showHeaders) await output.write(headerBlock(info));
  }

  // Set once, from the callbacks below.
  let outcome = null as Outcome | null;
  let receiving = true;
  let closeWith: { code: number; reason: string } = { code: 1000, reason: "" };
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

  // After stdin ended: done once each message sent has had a reply (the default, bounded by -w).
  let sent = 0;
  let received = 0;
  let waitingForReplies = false;
  const repliesIn = (): void => {
    if (waitingForReplies && received >= sent) finish({ code: EXIT.OK }, `${received} message(s) received for ${sent} sent: closing`);
  };

  void io.interrupted.then(() => finish({ code: EXIT.INTERRUPTED, message: "interrupted" }, "interrupted: closing"));

  const terminal: Terminal | null = io.interactive ? openTerminal(io.stdin, io.stdout, output, { binary: o.binary, verbose: o.verbose, onSent: () => sent++ }) : null;

  void receiveMessages(
    h,
    {
      raw: o.raw,
      verbose: o.verbose,
      showPingPong: o.showPingPong,
      count: o.count,
      marker: terminal !== null ? "< " : "",
      asked,
      onMessage: () => {
        received++;
        repliesIn();
      },
      onDone: (r) => finish(r, r.code === EXIT.OK && r.message === undefined && !output.readerGone ? `${o.count} message(s) received: closing` : "stdout closed: closing"),
      beforePrint: terminal !== null ? () => terminal.beforePrint() : undefined,
      afterPrint: terminal !== null ? () => terminal.afterPrint() : undefined,
    },
    output,
  ).then((r) => {
    receiving = false;
    finish(r);
  });

  const afterInput = (r: SendResult): void => {
    if (r.kind === "failed") finish(r.outcome);
    if (r.kind === "close") {
      closeWith = { code: r.code, reason: r.reason };
      finish({ code: EXIT.OK }, `/close ${r.code}: closing`);
    }
    if (r.kind !== "done") return;
    if (o.count === 0) finish({ code: EXIT.OK }, "-n 0: closing");
    else if (o.quitAfter !== undefined) {
      // -q: keep receiving for a while (negative: until the server closes or -n is reached).
      if (o.quitAfter >= 0) setTimeout(() => finish({ code: EXIT.OK }, `${o.quitAfter} s after the end of stdin: closing`), o.quitAfter * 1000);
    } else if (o.count === undefined) {
      waitingForReplies = true;
      repliesIn();
      const waitMs = o.wait * 1000;
      if (waitMs === 0) finish({ code: EXIT.OK }, "stdin ended: closing");
      else setTimeout(() => finish({ code: EXIT.OK }, `stdin ended ${o.wait} s ago (-w), ${received} message(s) received for ${sent} sent: closing`), waitMs);
    }
    // else -n N is still waiting for messages.
  };
  if (terminal !== null) {
    // -d messages first, then the prompt.
    void sendMessages(h, { data: o.data, binary: o.binary, split: o.split, verbose: o.verbose, readStdin: false, onSent: () => sent++ }, io.stdin, output).then((r) => {
      if (r.kind !== "done" || o.count === 0) return afterInput(r);
      void terminal.run(h).then(afterInput);
    });
  } else {
    void sendMessages(h, { data: o.data, binary: o.binary, split: o.split, verbose: o.verbose, readStdin: o.count !== 0, onSent: () => sent++ }, io.stdin, output).then(afterInput);
  }

  await ended;
  terminal?.stop();
  // Closes (1000, or /close's code) if still open; otherwise completes what the server
  // started. websock bounds the wait for the server's answer by close_timeout.
  const weClose = receiving;
  if (weClose && o.verbose) output.log(closeLine(">", closeWith.code, closeWith.reason));
  // websock_close_with_code says whether the server answered: CLOSE_TIMEOUT when close_timeout passed first.
  const closed = await websock_close_with_code(h, closeWith.code, closeWith.reason);
  const final: Outcome = outcome ?? { code: EXIT.OTHER, message: "ended without an outcome" };
  const closeTimeoutMs = config.close_timeout ?? DEFAULT_CLOSE_TIMEOUT_MS;
  if (weClose && final.code === EXIT.OK && closed === WEBSOCK_ERR.CLOSE_TIMEOUT) {
    return { code: EXIT.TIMEOUT, message: `the server did not answer the close within ${closeTimeoutMs / 1000} s (--close-timeout)` };
  }
  if (weClose && o.verbose && final.code === EXIT.OK) output.log("< close (the server's answer)");
  return final;
}
