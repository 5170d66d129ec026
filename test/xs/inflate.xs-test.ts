// src/inflate.ts inside the real XS engine: streams made by Node's zlib
// (stored, fixed and dynamic blocks; windows 2^9 to 2^15), inflated in an
// xsnap worker through every chunking test/inflate.test.ts uses on Node.

import { strict as assert } from "node:assert";
import { createHash, randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import type { InflateCase, InflateCaseResult } from "./xs-inflate-entry.js";
import { xsTally } from "./xs-tally.js";
import { bundleForXs, decodeJson, startXsWorker, xsEngineVersion, type XsWorker } from "./xsnap-driver.js";

function sample(length: number, seed: number): Buffer {
  const words = ["sensor", "temperature", "\"value\":", "21.5", ",", "{", "}", " ", "\n", "ok", "\u00e9t\u00e9"];
  const parts: Buffer[] = [];
  let n = 0;
  for (let i = 0; n < length; i++) {
    const b = (i * 7 + seed) % 13 === 0 ? randomBytes(5) : Buffer.from(words[(i * 31 + seed) % words.length]);
    parts.push(b);
    n += b.length;
  }
  return Buffer.concat(parts).subarray(0, length);
}

describe(`inside XS (${xsEngineVersion()}): the inflater (src/inflate.ts) on zlib's streams`, function () {
  this.timeout(120000);
  let worker: XsWorker;

  before(async () => {
    worker = startXsWorker();
    await worker.evaluate(await bundleForXs(fileURLToPath(new URL("./xs-inflate-entry.ts", import.meta.url)), "XsInflate"));
  });

  after(async () => {
    const exit = await worker.close();
    assert.deepEqual(exit, { code: 0, signal: null }, "the xsnap worker did not exit cleanly");
  });

  it("stored, fixed and dynamic blocks at every window from 9 to 15 bits: zlib's bytes, whole, one byte at a time and in random pieces", async () => {
    const cases: InflateCase[] = [];
    const originals: Buffer[] = [];
    const strategies: zlib.ZlibOptions[] = [{ level: 0 }, { strategy: zlib.constants.Z_FIXED }, { level: 9 }, { level: 1 }];
    for (let bits = 9; bits <= 15; bits++) {
      for (const [k, options] of strategies.entries()) {
        const data = sample(300 + bits * 500 + k * 111, bits * 4 + k);
        originals.push(data);
        cases.push({ hex: zlib.deflateRawSync(data, { windowBits: bits, ...options }).toString("hex"), windowBits: bits });
      }
    }
    const { reply } = await worker.evaluate(`XsInflate.run(${JSON.stringify(JSON.stringify(cases))})`);
    const results = decodeJson<InflateCaseResult[]>(reply);
    assert.equal(results.length, cases.length);
    let runs = 0;
    results.forEach((r, i) => {
      const want = createHash("sha1").update(originals[i]).digest("hex");
      r.runs.forEach((got, k) => assert.equal(got, want, `case ${i} (window ${cases[i].windowBits}), run ${k}`));
      runs += r.runs.length;
    });
    xsTally.assertions += runs;
    xsTally.suites++;
  });
});
