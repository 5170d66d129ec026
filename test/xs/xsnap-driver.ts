// Drives the `xsnap-worker` binary (the XS engine, built by the @agoric/xsnap
// package at npm install) directly over its pipes. We import nothing from
// @agoric/xsnap: its module wants @endo/init, which locks down the whole Node
// process; the binary alone is all the tests need.
//
// Wire protocol (xsnap-worker.c): netstrings `<len>:<bytes>,`, parent -> worker
// on fd 3, worker -> parent on fd 4. Parent sends `e<js>` (evaluate a script),
// `?<bytes>` (call globalThis.handleCommand(ArrayBuffer)), `R` (ready) or `q`
// (quit). The worker answers `.<meter json>\x01<reply>` when the delivery has
// run to idle (the job queue is empty), `!<error>` when it threw, or, in the
// middle of a delivery, `?<bytes>` for a synchronous issueCommand() made by
// the script, which the parent answers with `/<bytes>`. The reply of `e`/`?`
// is the completion value (or its `.result`) when it is an ArrayBuffer.
// `w<path>` writes a heap snapshot to the file (after a full collection) and
// replies its size: the benches read its sections for the live heap.

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { build, type Plugin } from "esbuild";

const require = createRequire(import.meta.url);

/** What a delivery reports: the worker's reply bytes and its meter (compute is deterministic for the same work). */
export interface Delivery {
  reply: Uint8Array;
  meter: { compute: number; allocate: number; currentHeapCount: number; [key: string]: unknown };
}

export interface XsWorker {
  /** Evaluates a script (indirect eval: a top-level `var` becomes a global). */
  evaluate(code: string): Promise<Delivery>;
  /** Calls globalThis.handleCommand(bytes.buffer) inside XS. */
  command(bytes: Uint8Array): Promise<Delivery>;
  /** Writes a heap snapshot to `file` (`w`: the worker collects garbage first); the reply is its size in ASCII. */
  writeSnapshot(file: string): Promise<Delivery>;
  /** Ends the worker; resolves with its exit. Code 0 unless an uncaught error was left behind (15). */
  close(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kills the worker at once. */
  kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly child: ChildProcess;
}

export interface WorkerOptions {
  /** Answers issueCommand(ArrayBuffer) made inside XS; the XS script is blocked until it returns. */
  handleCommand?: (request: Uint8Array) => Uint8Array | Promise<Uint8Array>;
  /** Compute limit per delivery (-l); 0 or absent: none. */
  meteringLimit?: number;
  /** Where XS print() goes. */
  stdout?: "inherit" | "ignore";
  /** The xsnap-worker binary to run (default: xsnapWorkerPath(), or WEBSOCK_XSNAP_WORKER when set), e.g. one with the mbedTLS engine in (tools/xsnap-tls/build.mjs). */
  binary?: string;
}

/** xsnap's exit codes (@agoric/xsnap api.js). */
const EXIT_REASONS: Readonly<Record<number, string>> = Object.freeze({
  1: "bad argument usage",
  2: "I/O error",
  11: "not enough memory",
  12: "stack overflow",
  15: "unhandled exception",
  16: "property name space exhausted",
  17: "too much computation",
});

/** The release build of xsnap-worker inside node_modules (lin on Linux, mac on macOS). */
export function xsnapWorkerPath(): string {
  const packageDir = path.dirname(require.resolve("@agoric/xsnap/package.json"));
  const platform = process.platform === "darwin" ? "mac" : "lin";
  return path.join(packageDir, "xsnap-native/xsnap/build/bin", platform, "release", "xsnap-worker");
}

/** "XS 13.3.0, xsnap 0.15.0", from `xsnap-worker -v`. */
export function xsEngineVersion(): string {
  const text = execFileSync(xsnapWorkerPath(), ["-v"], { encoding: "utf8" });
  const m = /xsnap (\S+) \(XS (\S+)\)/.exec(text);
  return m ? `XS ${m[2]}, xsnap ${m[1]}` : text.trim();
}

function netstring(tag: string, body: Uint8Array = new Uint8Array(0)): Buffer {
  const payload = Buffer.concat([Buffer.from(tag, "latin1"), body]);
  return Buffer.concat([Buffer.from(`${payload.length}:`), payload, Buffer.from(",")]);
}

/** Splits fd 4's byte stream into netstring payloads. */
function netstringDecoder(): (chunk: Buffer) => Buffer[] {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    const out: Buffer[] = [];
    for (;;) {
      const colon = pending.indexOf(0x3a);
      if (colon < 0) break;
      const length = Number(pending.subarray(0, colon).toString("latin1"));
      if (!Number.isSafeInteger(length)) throw new Error(`xsnap: bad netstring length ${JSON.stringify(pending.subarray(0, colon).toString("latin1"))}`);
      if (pending.length < colon + length + 2) break;
      if (pending[colon + 1 + length] !== 0x2c) throw new Error("xsnap: netstring without its trailing comma");
      out.push(pending.subarray(colon + 1, colon + 1 + length));
      pending = pending.subarray(colon + length + 2);
    }
    return out;
  };
}

export function startXsWorker(options: WorkerOptions = {}): XsWorker {
  const args = ["websock-xs-test"];
  if (options.meteringLimit) args.push("-l", String(options.meteringLimit));
  const child = spawn(options.binary ?? process.env.WEBSOCK_XSNAP_WORKER ?? xsnapWorkerPath(), args, { stdio: ["ignore", options.stdout ?? "inherit", "inherit", "pipe", "pipe"] });
  const toWorker = child.stdio[3] as Writable;
  const fromWorker = child.stdio[4] as Readable;
  const decode = netstringDecoder();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  child.once("error", () => {});
  toWorker.on("error", () => {});

  const inbox: Buffer[] = [];
  const waiters: Array<{ resolve: (m: Buffer) => void; reject: (e: Error) => void }> = [];
  let ended = false;
  const deadError = async (): Promise<Error> => {
    const { code, signal } = await exited;
    return new Error(`xsnap-worker exited with code ${code}${code !== null && EXIT_REASONS[code] ? ` (${EXIT_REASONS[code]})` : ""}${signal ? ` on ${signal}` : ""}`);
  };
  fromWorker.on("data", (chunk: Buffer) => {
    for (const message of decode(chunk)) {
      const waiter = waiters.shift();
      if (waiter !== undefined) waiter.resolve(message);
      else inbox.push(message);
    }
  });
  fromWorker.on("end", () => {
    ended = true;
    for (const waiter of waiters.splice(0)) void deadError().then(waiter.reject);
  });
  const nextMessage = (): Promise<Buffer> => {
    const message = inbox.shift();
    if (message !== undefined) return Promise.resolve(message);
    if (ended) return deadError().then((e) => Promise.reject(e));
    return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
  };

  // The worker is strictly request/response: one delivery at a time.
  let baton: Promise<unknown> = Promise.resolve();
  const serialize = <T>(work: () => Promise<T>): Promise<T> => {
    const result = baton.then(work);
    baton = result.catch(() => {});
    return result;
  };

  const handleCommand = options.handleCommand ?? ((request: Uint8Array) => request);

  async function runToIdle(): Promise<Delivery> {
    for (;;) {
      const message = await nextMessage();
      const tag = message[0];
      if (tag === 0x2e /* . */) {
        const separator = message.indexOf(1, 1);
        const meter = separator >= 0 ? JSON.parse(message.subarray(1, separator).toString("utf8")) : { compute: 0, allocate: 0, currentHeapCount: 0 };
        return { reply: new Uint8Array(message.subarray(separator >= 0 ? separator + 1 : 1)), meter };
      }
      if (tag === 0x21 /* ! */) throw new Error(`XS exception: ${message.subarray(1).toString("utf8")}`);
      if (tag === 0x3f /* ? */) {
        // The protocol has no error answer: a handler that throws must encode its error itself.
        const answer = await handleCommand(new Uint8Array(message.subarray(1)));
        toWorker.write(netstring("/", answer));
        continue;
      }
      child.kill();
      throw new Error(`xsnap protocol error: unexpected message ${JSON.stringify(message.subarray(0, 40).toString("latin1"))}`);
    }
  }

  return {
    child,
    evaluate: (code) => serialize(() => {
      toWorker.write(netstring("e", Buffer.from(code, "utf8")));
      return runToIdle();
    }),
    command: (bytes) => serialize(() => {
      toWorker.write(netstring("?", bytes));
      return runToIdle();
    }),
    writeSnapshot: (file) => serialize(() => {
      toWorker.write(netstring("w", Buffer.from(file, "utf8")));
      return runToIdle();
    }),
    close: () => serialize(async () => {
      if (!ended) toWorker.end(netstring("q"));
      return exited;
    }),
    kill: () => {
      child.kill();
      return exited;
    },
  };
}

/**
 * Bundles a TypeScript entry for XS: one IIFE script, ES2022, that assigns the
 * entry's exports to the global `globalName` when evaluated. esbuild's
 * target does not polyfill library methods: what XS lacks must not be used.
 */
export async function bundleForXs(entry: string, globalName: string, plugins: Plugin[] = []): Promise<string> {
  const result = await build({
    // Module specifiers a platform resolves itself (Moddable's "timer", "embedded:io/socket/tcp"...) are mapped by plugins.
    plugins,
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "iife",
    globalName,
    target: "es2022",
    platform: "neutral",
    logLevel: "warning",
    // The bundle starts with "use strict" (tsconfig's strict), so its top-level
    // `var` stays local to the evaluated script: publish the global explicitly.
    footer: { js: `globalThis.${globalName} = ${globalName};` },
  });
  return result.outputFiles[0].text;
}

/** ASCII JSON out of XS, back to a value (XS replies carry bytes). */
export function decodeJson<T>(reply: Uint8Array): T {
  return JSON.parse(Buffer.from(reply).toString("utf8")) as T;
}
