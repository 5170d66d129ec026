// The core against the JSON vectors (RFC 6455 examples, every length class,
// every failure), each through every chunking: whole, one byte at a time,
// and every two-way split. The same runner and data run inside XS.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { strict as assert } from "node:assert";
import {
  checkFrameVector,
  checkHandshakeVector,
  checkSendVector,
  chunkings,
  inputBytes,
  type FrameVector,
  type HandshakeVector,
  type SendVector,
} from "./vectors/runner.js";

const vectors = JSON.parse(readFileSync(new URL("./vectors/vectors.json", import.meta.url), "utf8")) as {
  frames: FrameVector[];
  handshakes: HandshakeVector[];
  sends: SendVector[];
};
const env = { sha1: (data: Uint8Array) => new Uint8Array(createHash("sha1").update(data).digest()) };

function runAll(label: string, cases: Array<{ name: string; run: () => string | null }>): void {
  const failures: string[] = [];
  for (const c of cases) {
    let problem: string | null;
    try {
      problem = c.run();
    } catch (e) {
      problem = `threw ${String(e)}`;
    }
    if (problem !== null) failures.push(`${c.name}: ${problem}`);
  }
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${cases.length} ${label} runs failed`);
}

describe("receive framer (test/vectors/vectors.json)", () => {
  for (const v of vectors.frames) {
    it(`§${v.rfc} ${v.name}`, () => {
      const input = inputBytes(v.input);
      const cases = chunkings(input.length).flatMap((c) =>
        // 1-byte reads are the slowest path; long inputs take them only whole.
        (input.length <= 4096 || c.cuts.length === 0 ? [1, 7, 1024] : [7, 1024]).map((readSize) => ({ name: `${c.name}, ${readSize}-byte reads`, run: () => checkFrameVector(env, v, c.cuts, readSize) })),
      );
      runAll("chunking", cases);
    });
  }
});

describe("opening handshake (test/vectors/vectors.json)", () => {
  for (const v of vectors.handshakes) {
    it(`§${v.rfc} ${v.name}`, () => {
      const length = v.response.length + (v.after ? inputBytes(v.after).length : 0) + 60;
      runAll("chunking", chunkings(length).map((c) => ({ name: c.name, run: () => checkHandshakeVector(env, v, c.cuts) })));
    });
  }
});

describe("sender (test/vectors/vectors.json)", () => {
  for (const v of vectors.sends) {
    it(`§${v.rfc} ${v.name}`, () => {
      runAll("tx size", [256, 1000, 4096, 70000].map((tx) => ({ name: `tx ${tx}`, run: () => checkSendVector(env, v, tx) })));
    });
  }
});
