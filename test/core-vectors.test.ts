// The core against the JSON vectors (RFC 6455 examples, every length class,
// every failure), each through every chunking: whole, one byte at a time,
// and every two-way split. The same runner and data run inside XS.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { strict as assert } from "node:assert";
import { checkFrameVector, checkHandshakeVector, checkSendVector } from "./vectors/runner.js";
import { planFrameVector, planHandshakeVector, planSendVector, type Vectors } from "./vectors/plan.js";
import { utf8WriterModel } from "./support/utf8-writer-model.js";

const vectors = JSON.parse(readFileSync(new URL("./vectors/vectors.json", import.meta.url), "utf8")) as Vectors;
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
      runAll("chunking", planFrameVector(v).map((p) => ({ name: p.name, run: () => checkFrameVector(env, v, p.cuts, p.size) })));
    });
  }
});

describe("opening handshake (test/vectors/vectors.json)", () => {
  for (const v of vectors.handshakes) {
    it(`§${v.rfc} ${v.name}`, () => {
      runAll("chunking", planHandshakeVector(v).map((p) => ({ name: p.name, run: () => checkHandshakeVector(env, v, p.cuts) })));
    });
  }
});

describe("sender (test/vectors/vectors.json)", () => {
  for (const v of vectors.sends) {
    it(`§${v.rfc} ${v.name}`, () => {
      runAll("tx size", planSendVector(v).map((p) => ({ name: p.name, run: () => checkSendVector(env, v, p.size) })));
    });
  }
});

describe("sender through a UTF-8 writer (Host.utf8Writer: websock_utf8.c's contract, modelled in JavaScript)", () => {
  const withWriter = { ...env, utf8Writer: utf8WriterModel };
  for (const v of vectors.sends) {
    it(`§${v.rfc} ${v.name}`, () => {
      runAll("tx size", planSendVector(v).map((p) => ({ name: p.name, run: () => checkSendVector(withWriter, v, p.size) })));
    });
  }
});
