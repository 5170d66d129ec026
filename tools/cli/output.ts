// What goes to stdout (messages, --show-headers) and to stderr (-v frame
// log). stdout is written with backpressure: a slow reader of our output
// slows websock_recv, which slows the server (TCP), instead of growing memory.

import type { Writable } from "node:stream";
import type { websock_info_t } from "websock-rfc6455";

const OPCODE_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0: "cont",
  1: "text",
  2: "binary",
  8: "close",
  9: "ping",
  10: "pong",
});

/** One -v line: direction ("<" received, ">" sent), opcode, payload length, FIN. */
export function frameLine(direction: "<" | ">", opcode: number, length: number, fin: boolean): string {
  return `${direction} ${OPCODE_NAMES[opcode] ?? "op"} opcode=${opcode} len=${length} fin=${fin ? 1 : 0}`;
}

/** One -v line for a close frame: its code and reason (RFC 6455 §5.5.1); no code is 1005. */
export function closeLine(direction: "<" | ">", code: number | undefined, reason: string, note = ""): string {
  const payload = code === undefined || code === 1005 ? 0 : 2 + Buffer.byteLength(reason);
  const what = code === undefined || code === 1005 ? "no code" : `code=${code}${reason ? ` reason=${JSON.stringify(reason)}` : ""}`;
  return `${direction} close opcode=8 len=${payload} fin=1 ${what}${note}`;
}

/** The 101 response as --show-headers prints it, ending with an empty line. */
export function headerBlock(info: websock_info_t): string {
  const reason = info.http_status === 101 ? " Switching Protocols" : "";
  const lines = [`HTTP/1.1 ${info.http_status}${reason}`, ...info.headers.map(([name, value]) => `${name}: ${value}`)];
  return lines.join("\r\n") + "\r\n\r\n";
}

export class Output {
  private readonly out: Writable;
  private readonly err: Writable;
  private failed: Error | null = null;

  constructor(out: Writable, err: Writable) {
    this.out = out;
    this.err = err;
    // EPIPE and friends arrive as events; remember them for the next write.
    out.on("error", (e: Error) => {
      this.failed = e;
    });
    // A closed stderr has no one left to tell.
    err.on("error", () => {});
  }

  /** The stdout failure, if any (EPIPE: whoever read our output went away). */
  get error(): Error | null {
    return this.failed;
  }

  /** stdout's reader went away (`| head`): not a failure, a reason to stop quietly. */
  get readerGone(): boolean {
    const code = (this.failed as NodeJS.ErrnoException | null)?.code;
    return code === "EPIPE" || code === "ERR_STREAM_DESTROYED";
  }

  /** Writes to stdout; resolves once the stream can take more. `bytes` may be reused once this resolves. */
  write(bytes: Uint8Array | string): Promise<void> {
    if (this.failed !== null) return Promise.resolve();
    // Buffer.from copies: the caller's receive buffer is reused by the next websock_recv.
    const ok = this.out.write(typeof bytes === "string" ? bytes : Buffer.from(bytes));
    if (ok) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.out.off("drain", done);
        this.out.off("error", done);
        this.out.off("close", done);
        resolve();
      };
      this.out.on("drain", done);
      this.out.on("error", done);
      this.out.on("close", done);
    });
  }

  /** One line on stderr (-v log, errors). */
  log(line: string): void {
    this.err.write(line + "\n");
  }

  /** Resolves once everything written to stdout and stderr has been handed to the OS. */
  flush(): Promise<void> {
    const drained = (s: Writable): Promise<void> =>
      new Promise<void>((resolve) => {
        if (s.destroyed || s.writableEnded) resolve();
        else s.write("", () => resolve());
      });
    return Promise.all([drained(this.out), drained(this.err)]).then(() => undefined);
  }
}
