/// <reference path="../../hosts/xs-test/xsnap-globals.d.ts" />
// Bundled and evaluated inside the xsnap worker: runs the core's JSON test
// vectors through test/vectors/runner.ts, the very runner the Node tests use,
// through the same chunkings (test/vectors/plan.ts). The Node side
// (vectors.xs-test.ts) hands over the JSON text and calls run() once per
// vector; each call answers ASCII JSON as an ArrayBuffer (the delivery's reply).

import { asciiBytes, asciiJson } from "../../hosts/xs-test/protocol.js";
import { sha1 } from "../../hosts/xs-test/sha1.js";
import { bytesToHex, checkFrameVector, checkHandshakeVector, checkSendVector, hexToBytes, type CoreEnv } from "../vectors/runner.js";
import { planFor, type VectorKind, type Vectors } from "../vectors/plan.js";
import type { Utf8Writer } from "../../src/text-cursor.js";

// websock_utf8.c when the worker was built with it (tools/xsnap-utf8/build.mjs): the sender's vectors then go through it.
const env: CoreEnv = { sha1, utf8Writer: (globalThis as { WebsockUtf8Writer?: Utf8Writer }).WebsockUtf8Writer ?? null };
let vectors: Vectors | null = null;

function reply(value: unknown): ArrayBuffer {
  return asciiBytes(asciiJson(value)).buffer as ArrayBuffer;
}

/** Takes the vectors (the text of test/vectors/vectors.json); answers how many of each kind. */
export function load(json: string): ArrayBuffer {
  vectors = JSON.parse(json) as Vectors;
  return reply({ writer: env.utf8Writer !== null, frames: vectors.frames.length, handshakes: vectors.handshakes.length, sends: vectors.sends.length });
}

export interface VectorResult {
  /** Runs made: each one an assertion that the core's outcome equals the vector's. */
  runs: number;
  failed: number;
  /** The first failures, "<run>: <what differed>". */
  failures: string[];
}

/** Runs one vector through every run of its plan. */
export function run(kind: VectorKind, index: number): ArrayBuffer {
  if (vectors === null) throw new Error("load() the vectors first");
  const all = vectors;
  const result: VectorResult = { runs: 0, failed: 0, failures: [] };
  for (const r of planFor(all, kind, index)) {
    let problem: string | null;
    try {
      if (kind === "frames") problem = checkFrameVector(env, all.frames[index], r.cuts, r.size);
      else if (kind === "handshakes") problem = checkHandshakeVector(env, all.handshakes[index], r.cuts);
      else problem = checkSendVector(env, all.sends[index], r.size);
    } catch (e) {
      problem = `threw ${String(e)}`;
    }
    result.runs++;
    if (problem !== null) {
      result.failed++;
      if (result.failures.length < 5) result.failures.push(`${r.name}: ${problem}`);
    }
  }
  return reply(result);
}

/** SHA-1 of each hex input, as the XS test host computes it (checked against node:crypto). */
export function sha1Hex(inputs: string[]): ArrayBuffer {
  return reply(inputs.map((hex) => bytesToHex(sha1(hexToBytes(hex)))));
}
