/// <reference path="../../hosts/xs-test/xsnap-globals.d.ts" />
// Bundled and evaluated inside the xsnap worker: src/inflate.ts on streams
// Node's zlib made (inflate.xs-test.ts hands them over as hex), through the
// same driver as the Node tests (test/inflate/run.ts): whole, one byte at a
// time, random pieces, 1-byte and larger reads, in place and copied. Answers
// the SHA-1 of each output, so the Node side compares with the original.

import { asciiBytes, asciiJson } from "../../hosts/xs-test/protocol.js";
import { sha1 } from "../../hosts/xs-test/sha1.js";
import { bytesToHex, hexToBytes } from "../vectors/runner.js";
import { everyByte, inflatePieces, randomCuts } from "../inflate/run.js";

export interface InflateCase {
  hex: string;
  windowBits: number;
}

export interface InflateCaseResult {
  /** SHA-1 (hex) of the output of each run, or "error: ..." / "not ended". */
  runs: string[];
}

/** Runs each case through 4 chunkings; answers the SHA-1 of each run's output. */
export function run(json: string): ArrayBuffer {
  const cases = JSON.parse(json) as InflateCase[];
  const results: InflateCaseResult[] = [];
  for (let i = 0; i < cases.length; i++) {
    const input = hexToBytes(cases[i].hex);
    const bits = cases[i].windowBits;
    const runs: string[] = [];
    const plans: Array<[number[], number, boolean]> = [
      [[], 65536, false],
      [everyByte(input.length), 1, true],
      [randomCuts(input.length, i + 1, 97), 7, true],
      [randomCuts(input.length, i + 5, 1500), 1000, false],
    ];
    for (const [cuts, readSize, inPlace] of plans) {
      const out = inflatePieces(input, bits, cuts, readSize, inPlace);
      runs.push(out.error !== "" ? `error: ${out.error}` : !out.ended ? "not ended" : bytesToHex(sha1(out.output)));
    }
    results.push({ runs });
  }
  return asciiBytes(asciiJson(results)).buffer as ArrayBuffer;
}
