// Typing on a terminal: a "> " prompt for what is sent, "< " before what is
// received, and slash commands for the control frames, as wscat's --slash:
//   /ping [text]   send a ping (its pong is consumed by websock)
//   /pong [text]   send an unsolicited pong (RFC 6455 §5.5.3 allows it)
//   /close [code [reason]]   close with that code (default 1000) and reason
//   //text         send "/text"
// Used only when stdin and stdout are both terminals; piped lines are sent as they are.

import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { WEBSOCK_OP, websock_ping, websock_send_binary, websock_send_frame, websock_send_text, type websock_handle_t } from "websock-rfc6455";
import { EXIT, oneLine } from "./exit-codes.js";
import { frameLine, type Output } from "./output.js";
import type { SendResult } from "./send.js";

export interface InteractiveOptions {
  binary: boolean;
  verbose: boolean;
  onSent(): void;
}

const HELP_LINE = "commands: /ping [text], /pong [text], /close [code [reason]]; //text sends /text";

export interface Terminal {
  /** Takes the prompt line down before a received message is printed, and puts it back after. */
  beforePrint(): void;
  afterPrint(): void;
  /** Runs the prompt until Ctrl-D, /close, or a failed send. */
  run(h: websock_handle_t): Promise<SendResult>;
  stop(): void;
}

export function openTerminal(stdin: Readable, stdout: Writable, output: Output, opts: InteractiveOptions): Terminal {
  const rl = createInterface({ input: stdin, output: stdout, prompt: "> ", terminal: true });
  let stopped = false;
  const tty = stdout as Writable & { clearLine?(dir: number): boolean; cursorTo?(x: number): boolean };
  return {
    beforePrint() {
      if (stopped) return;
      tty.cursorTo?.(0);
      tty.clearLine?.(0);
    },
    afterPrint() {
      if (!stopped) rl.prompt(true);
    },
    stop() {
      stopped = true;
      rl.close();
    },
    run(h) {
      return new Promise<SendResult>((resolve) => {
        let queue = Promise.resolve();
        const finish = (r: SendResult): void => {
          if (stopped) return;
          stopped = true;
          rl.close();
          resolve(r);
        };
        const say = (line: string): void => {
          tty.cursorTo?.(0);
          tty.clearLine?.(0);
          stdout.write(`${line}\n`);
        };
        const sendData = async (text: string): Promise<boolean> => {
          const bytes = Buffer.from(text, "utf8");
          const r = opts.binary ? await websock_send_binary(h, bytes) : await websock_send_text(h, text);
          if (r !== 0) return false;
          if (opts.verbose) output.log(frameLine(">", opts.binary ? WEBSOCK_OP.BINARY : WEBSOCK_OP.TEXT, bytes.length, true));
          opts.onSent();
          return true;
        };
        const handle = async (line: string): Promise<void> => {
          if (line.startsWith("//") || !line.startsWith("/")) {
            if (!(await sendData(line.startsWith("//") ? line.slice(1) : line))) finish({ kind: "stopped" });
            return;
          }
          const [command, ...args] = line.slice(1).split(" ");
          const rest = args.join(" ");
          if (command === "ping" || command === "pong") {
            const payload = Buffer.from(rest, "utf8");
            if (payload.length > 125) return say(`/${command}: at most 125 bytes (RFC 6455 §5.5)`);
            const opcode = command === "ping" ? WEBSOCK_OP.PING : WEBSOCK_OP.PONG;
            const r = command === "ping" ? await websock_ping(h, payload) : await websock_send_frame(h, opcode, payload, payload.length, true);
            if (r !== 0) return finish({ kind: "stopped" });
            if (opts.verbose) output.log(frameLine(">", opcode, payload.length, true));
            return;
          }
          if (command === "close") {
            const code = args[0] === undefined || args[0] === "" ? 1000 : Number(args[0]);
            // RFC 6455 §7.4: 1004-1006 and 1015 are never sent; below 1000 and 1016-2999 are not for applications.
            const sendable = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
            if (!Number.isInteger(code) || !sendable) return say(`/close: ${JSON.stringify(args[0])} is not a code to send (1000-1003, 1007-1014, 3000-4999)`);
            if (Buffer.byteLength(args.slice(1).join(" ")) > 123) return say("/close: the reason is at most 123 bytes (RFC 6455 §5.5)");
            return finish({ kind: "close", code, reason: args.slice(1).join(" ") });
          }
          say(`unknown command /${command} (${HELP_LINE})`);
        };
        rl.on("line", (line) => {
          queue = queue.then(() => handle(line)).then(() => {
            if (!stopped) rl.prompt();
          }, (e: unknown) => finish({ kind: "failed", outcome: { code: EXIT.OTHER, message: oneLine(String(e)) } }));
        });
        // The terminal is in raw mode: Ctrl-C reaches readline, not the process.
        rl.on("SIGINT", () => process.emit("SIGINT"));
        // Ctrl-D: what was typed is sent, then the run ends as piped input does.
        rl.on("close", () => void queue.then(() => finish({ kind: "done" })));
        rl.prompt();
      });
    },
  };
}
