// The core's JSON test vectors, run inside the real XS engine (an xsnap
// worker): src/ and test/vectors/runner.ts bundled for ES2022, the same data
// and the same chunkings as test/core-vectors.test.ts. Run by `npm run test:xs`.

import { strict as assert } from "node:assert";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { planFor, type VectorKind, type Vectors } from "../vectors/plan.js";
import type { VectorResult } from "./xs-vectors-entry.js";
import { xsTally } from "./xs-tally.js";
import { bundleForXs, decodeJson, startXsWorker, xsEngineVersion, type XsWorker } from "./xsnap-driver.js";
// @ts-expect-error: a plain .mjs build script, no types
import { buildUtf8Worker } from "../../tools/xsnap-utf8/build.mjs";

const vectorsText = readFileSync(new URL("../vectors/vectors.json", import.meta.url), "utf8");
const vectors = JSON.parse(vectorsText) as Vectors;
const SECTIONS: Array<[VectorKind, string]> = [
  ["frames", "receive framer"],
  ["handshakes", "opening handshake"],
  ["sends", "sender"],
];

/**
 * The vectors of `sections` in a worker: the package's, or (writer) one built with websock's
 * native UTF-8 writer, through which the sender's text then goes (Host.utf8Writer).
 */
function vectorSuite(title: string, sections: Array<[VectorKind, string]>, writer: boolean): void {
describe(title, function () {
  this.timeout(120000);
  let worker: XsWorker;
  let assertions = 0;
  let compute = 0;
  const started = Date.now();

  before(async () => {
    worker = startXsWorker(writer ? { binary: buildUtf8Worker() } : {});
    await worker.evaluate(await bundleForXs(fileURLToPath(new URL("./xs-vectors-entry.ts", import.meta.url)), "XsVectors"));
    const loaded = decodeJson<Record<VectorKind, number> & { writer: boolean }>((await worker.evaluate(`XsVectors.load(${JSON.stringify(vectorsText)})`)).reply);
    assert.deepEqual(loaded, { writer, frames: vectors.frames.length, handshakes: vectors.handshakes.length, sends: vectors.sends.length });
  });

  after(async () => {
    const exit = await worker.close();
    xsTally.assertions += assertions;
    xsTally.suites++;
    console.log(`\n      ${assertions} assertions ran inside XS (${compute} XS compute units, ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    assert.deepEqual(exit, { code: 0, signal: null }, "the xsnap worker did not exit cleanly");
  });

  if (!writer) it("the XS test host's SHA-1 equals node:crypto's (FIPS 180-4 padding at every block boundary)", async () => {
    const inputs: Buffer[] = [];
    for (let n = 0; n <= 200; n++) inputs.push(randomBytes(n));
    inputs.push(Buffer.from("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11"), randomBytes(4096));
    const got = decodeJson<string[]>((await worker.evaluate(`XsVectors.sha1Hex(${JSON.stringify(inputs.map((b) => b.toString("hex")))})`)).reply);
    assert.deepEqual(got, inputs.map((b) => createHash("sha1").update(b).digest("hex")));
    // RFC 6455 §1.3's example: the key's Accept is "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
    assert.equal(Buffer.from(got[201], "hex").toString("base64"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assertions += inputs.length;
  });

  for (const [kind, section] of sections) {
    describe(section, () => {
      vectors[kind].forEach((v, index) => {
        it(`§${v.rfc} ${v.name}`, async () => {
          const { reply, meter } = await worker.evaluate(`XsVectors.run(${JSON.stringify(kind)}, ${index})`);
          const result = decodeJson<VectorResult>(reply);
          compute += meter.compute;
          assertions += result.runs;
          assert.deepEqual(result.failures, [], `${result.failed} of ${result.runs} runs failed inside XS`);
          // Every chunking of the Node run was run inside XS too.
          assert.equal(result.runs, planFor(vectors, kind, index).length, "XS ran a different number of chunkings than planned");
        });
      });
    });
  }
});
}

vectorSuite(`inside XS (${xsEngineVersion()}): the core's test vectors (test/vectors/vectors.json)`, SECTIONS, false);
vectorSuite(`inside XS (${xsEngineVersion()}): the sender's vectors through websock's native UTF-8 writer (websock_utf8.c)`, [["sends", "sender"]], true);
