// Property-based fuzzing of the pure core with fast-check, bounded to a few
// seconds: random frame streams checked against a reference model written
// from RFC 6455, mutated and random byte streams checked against invariants,
// handshake responses (built header by header, and mutated), all fed in
// random chunkings and read with random sizes; a long-lived connection fed
// valid frames whose heap does not grow; and a few random streams through
// the real socket. `npm run fuzz -- <count>` runs the same properties long.

import { strict as assert } from "node:assert";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { ERR } from "../src/errors.js";
import { CraftedServer } from "./support/crafted.js";
import {
  encodeFrames,
  feed,
  frameStreams,
  longLivedHeapGrowth,
  model,
  mutatedStreams,
  mutationLists,
  newConnection,
  responseSpecs,
  runHandshake,
  runModelStream,
  runMutatedHandshake,
  runMutatedStream,
  schedules,
  type Schedule,
} from "./support/fuzz-streams.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 500);

describe("fuzz: random frame streams against the RFC 6455 reference model", () => {
  it("delivers what the model says and ends as it says, through any chunking and read sizes", () => {
    fc.assert(fc.property(frameStreams, schedules, (frames, schedule) => void runModelStream(frames, schedule)), { numRuns: RUNS * 2 });
  });

  it("gives the same outcome whole and one byte at a time", () => {
    const oneByOne: Schedule = { cuts: [-1], reads: [3], rxBuffer: 256 };
    fc.assert(
      fc.property(frameStreams, schedules, (frames, schedule) => {
        const input = encodeFrames(frames);
        if (input.length > 4096) return;
        const a = newConnection(schedule.rxBuffer);
        a.startOpen();
        const b = newConnection(256);
        b.startOpen();
        const whole = feed(a, input, { ...schedule, cuts: [] });
        const bytes = feed(b, input, oneByOne);
        assert.equal(bytes.error, whole.error);
        assert.equal(bytes.closeCode, whole.closeCode);
        if (whole.error !== ERR.INVALID_UTF8.name) {
          assert.deepEqual(bytes.frames.map((f) => [f.opcode, f.fin, Buffer.from(f.payload).toString("hex")]), whole.frames.map((f) => [f.opcode, f.fin, Buffer.from(f.payload).toString("hex")]));
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe("fuzz: mutated and random byte streams", () => {
  it("never throws or hangs, and ends with the peer's close, a lost connection, or a failure with its close code sent", () => {
    // feed() checks the invariants and throws on any breach.
    fc.assert(fc.property(mutatedStreams, schedules, (input, schedule) => void runMutatedStream(input, schedule)), { numRuns: RUNS * 2 });
  });

  it("keeps max_message_size with any input: no message longer than the limit is delivered", () => {
    fc.assert(
      fc.property(mutatedStreams, schedules, fc.integer({ min: 1, max: 300 }), (input, schedule, limit) => {
        const conn = newConnection(schedule.rxBuffer, { maxMessageSize: limit });
        conn.startOpen();
        const o = feed(conn, input, schedule);
        let size = 0;
        for (const f of o.frames) {
          if (f.opcode === 9) continue;
          size = (f.opcode === 0 ? size : 0) + f.payload.length;
          assert.ok(size <= limit, `a message of ${size} bytes passed a limit of ${limit}`);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe("fuzz: handshake responses", () => {
  it("opens exactly when RFC 6455 §4.1 says, for responses built header by header in any chunking", () => {
    fc.assert(fc.property(responseSpecs, schedules, frameStreams, (spec, schedule, frames) => void runHandshake(spec, schedule, frames)), { numRuns: RUNS });
  });

  it("never throws on mutated responses, and never opens without the right Accept", () => {
    fc.assert(fc.property(responseSpecs, frameStreams, mutationLists, schedules, (spec, frames, mutations, schedule) => void runMutatedHandshake(spec, frames, mutations, schedule)), { numRuns: RUNS });
  });
});

describe("fuzz: memory", () => {
  it("does not grow on a long-lived connection fed 200,000 valid frames", () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const r = longLivedHeapGrowth(200_000, gc, () => process.memoryUsage().heapUsed);
    assert.ok(r.healthy, "the connection failed on valid traffic");
    // A loose bound: the steady state allocates nothing per frame; GC noise stays well under this.
    assert.ok(r.growth < 2 * 1024 * 1024, `heap grew by ${r.growth} bytes over ${r.delivered} frames`);
  });
});

describe("fuzz: random streams through the real socket", () => {
  let server: CraftedServer;
  before(async () => {
    server = await CraftedServer.start();
  });
  after(() => server.stop());

  it("ends as the model says for random streams written in random chops", async () => {
    await fc.assert(
      fc.asyncProperty(frameStreams, fc.integer({ min: 1, max: 500 }), async (frames, chop) => {
        const input = Buffer.from(encodeFrames(frames));
        const want = model(frames);
        const r = await server.run([{ chop, bytes: input.subarray(0, 2000) }, input.subarray(2000), { endTcp: true }]);
        assert.equal(r.error.name, want.error, r.error.message);
        assert.equal(r.error.close_code, want.closeCode);
        if (ERR.CONNECTION_LOST.name !== want.error) {
          const sent = r.client.close?.code ?? (r.client.close !== null ? 1005 : undefined);
          assert.equal(sent, want.closeCode, "the close code the client sent");
        }
      }),
      { numRuns: 25 },
    );
  });
});
