// The close-path scenarios of test/close-path.test.ts ("Nothing lost, nothing
// hangs", issue 12) inside the real XS engine: the websock_* API runs in an
// xsnap worker over the XS test host (close-path-entry.ts) and asserts there;
// this process starts real servers on 127.0.0.1, relays bytes and timers
// (relay.ts), and checks what only the server saw.
//
// websock_detach is not run here: the XS test host's transport has no
// detach(), so websock_detach returns null with NOT_OPEN on it by design.

import { strict as assert } from "node:assert";
import { fileURLToPath } from "node:url";
import { WebSocketServer } from "ws";
import type { AddressInfo } from "node:net";
import { closeFrame } from "../support/frames.js";
import { serverFrame, startRawServer, switchingProtocols } from "../support/raw-server.js";
import { eventually } from "../support/ws-server.js";
import { lateMessage, stressMessage, type CloseReport, type Scenario, type StressRun } from "./close-path-entry.js";
import { Relay } from "./relay.js";
import { xsTally } from "./xs-tally.js";
import { bundleForXs, startXsWorker, xsEngineVersion, type XsWorker } from "./xsnap-driver.js";

/** The stress: at most this many runs, and at most this long inside XS. */
const STRESS_RUNS = 500;
const STRESS_BUDGET_MS = 20000;

describe(`inside XS (${xsEngineVersion()}): the close path, nothing lost, nothing hangs`, function () {
  this.timeout(60000);
  let worker: XsWorker;
  let relay: Relay;

  before(async () => {
    relay = new Relay();
    worker = startXsWorker({ handleCommand: (request) => relay.answer(request) });
    relay.attach(worker);
    xsTally.suites++;
    await worker.evaluate(await bundleForXs(fileURLToPath(new URL("./close-path-entry.ts", import.meta.url)), "XsClose"));
  });

  after(async () => {
    relay?.shutdown();
    const exit = await worker?.close();
    assert.deepEqual(exit, { code: 0, signal: null }, "the xsnap worker did not exit cleanly");
  });

  /** Runs one scenario inside XS and checks its report; returns it for the test's own checks. */
  async function runInXs(scenario: Scenario, port: number, runs: StressRun[] = []): Promise<CloseReport> {
    const started = Date.now();
    const reportArrives = relay.nextReport<CloseReport>(55000);
    await worker.evaluate(`XsClose.start(${JSON.stringify(scenario)}, ${port}, ${JSON.stringify(runs)}, ${STRESS_BUDGET_MS})`);
    const report = await reportArrives;
    assert.deepEqual(relay.errors.map(String), [], "a delivery to the worker failed");
    assert.deepEqual(report.failures, [], `${report.failures.length} of ${report.assertions} assertions failed inside XS`);
    assert.ok(report.assertions > 0, "assertions ran inside XS");
    xsTally.assertions += report.assertions;
    console.log(`\n      ${report.assertions} assertions ran inside XS, ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    return report;
  }

  it("a late reader still gets every message and the server's close (4000 'bye') sent with the FIN in one burst", async () => {
    const raw = await startRawServer((p) => {
      const messages = Array.from({ length: 6 }, (_, i) => serverFrame(1, lateMessage(i)));
      p.socket.end(Buffer.concat([Buffer.from(switchingProtocols(p.request.accept)), ...messages, closeFrame(4000, "bye")]));
    });
    try {
      await runInXs("late-reader", raw.port);
      assert.equal(raw.peers.length, 1);
    } finally {
      await raw.stop();
    }
  });

  it("sends issued without awaiting, then websock_close: every one arrives before the close frame", async () => {
    const received: string[] = [];
    let closeCode = 0;
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((r) => wss.once("listening", () => r()));
    wss.on("connection", (ws) => {
      ws.on("error", () => {});
      ws.on("message", (data) => received.push(data.toString()));
      ws.on("close", (code) => (closeCode = code));
    });
    try {
      await runInXs("unawaited-sends", (wss.address() as AddressInfo).port);
      await eventually(() => closeCode !== 0);
      assert.equal(received.length, 200);
      assert.deepEqual(received, Array.from({ length: 200 }, (_, i) => `m${i}`));
      assert.equal(closeCode, 1000);
    } finally {
      await new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      });
    }
  });

  it("a reset in the middle of a message: what already arrived is delivered, then the error (1006)", async () => {
    const raw = await startRawServer((p) => {
      const head = Buffer.from([0x82, 126, 0xc8, 0x00]); // a binary frame of 50 KiB (51,200 bytes)
      p.socket.write(Buffer.concat([Buffer.from(switchingProtocols(p.request.accept)), head, Buffer.alloc(49 * 1024, 5)]));
      setTimeout(() => p.socket.resetAndDestroy(), 300);
    });
    try {
      const report = await runInXs("reset", raw.port);
      assert.equal(report.delivered, 49 * 1024);
    } finally {
      await raw.stop();
    }
  });

  it("under randomized application delays, every message, the close code and websock_close come through (stress)", async () => {
    let seed = 12345;
    // The LCG's low bits repeat with short periods (every rx size a multiple of 32): draw from its high bits.
    const random = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 12) % n;
    const runs: StressRun[] = Array.from({ length: STRESS_RUNS }, () => {
      const count = random(12);
      return {
        sizes: Array.from({ length: count }, () => random(2500)),
        code: 4000 + random(999),
        rxBufferSize: 256 + random(4000),
        delays: Array.from({ length: count }, () => random(6)),
        echoes: Array.from({ length: count }, () => random(3) === 0),
      };
    });
    const raw = await startRawServer((p) => {
      const k = Number(/^GET \/run\/(\d+) /.exec(p.request.text)?.[1] ?? -1);
      const run = runs[k];
      if (run === undefined) {
        p.socket.destroy();
        return;
      }
      const frames = run.sizes.map((size, i) => serverFrame(1, stressMessage(k, i, size)));
      // The messages, the close and the FIN in one write: one burst.
      p.socket.end(Buffer.concat([Buffer.from(switchingProtocols(p.request.accept)), ...frames, closeFrame(run.code, "bye")]));
    });
    try {
      const report = await runInXs("stress", raw.port, runs);
      console.log(`      stress: ${report.runs} runs, ${report.messages} messages`);
      assert.ok((report.runs ?? 0) >= 50, `only ${report.runs} runs within ${STRESS_BUDGET_MS} ms`);
      assert.equal(raw.peers.length, report.runs);
    } finally {
      await raw.stop();
    }
  });
});
