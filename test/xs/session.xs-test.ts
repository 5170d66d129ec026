// A whole client session inside the real XS engine: the websock_* API, the
// handshake, the framer, UTF-8 validation and the state machine run in an
// xsnap worker (xs-session-entry.ts); this process only relays TCP bytes
// and timers (relay.ts) between it and a real `ws` server on 127.0.0.1.

import { strict as assert } from "node:assert";
import { fileURLToPath } from "node:url";
import { eventually, startWsServer, type WsTestServer } from "../support/ws-server.js";
import { Relay } from "./relay.js";
import type { SessionReport } from "./xs-session-entry.js";
import { xsTally } from "./xs-tally.js";
import { bundleForXs, startXsWorker, xsEngineVersion, type XsWorker } from "./xsnap-driver.js";

describe(`inside XS (${xsEngineVersion()}): a whole session against a ws server`, function () {
  this.timeout(60000);
  let server: WsTestServer;
  let worker: XsWorker;
  let relay: Relay;

  before(async () => {
    server = await startWsServer();
    relay = new Relay();
    worker = startXsWorker({ handleCommand: (request) => relay.answer(request) });
    relay.attach(worker);
    await worker.evaluate(await bundleForXs(fileURLToPath(new URL("./xs-session-entry.ts", import.meta.url)), "XsSession"));
  });

  after(async () => {
    relay?.shutdown();
    const exit = await worker?.close();
    await server?.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, "the xsnap worker did not exit cleanly");
  });

  it("opens, echoes text and binary (1 MiB through a 1 KiB rx buffer), answers a ping, closes both ways", async () => {
    const started = Date.now();
    const reportArrives = relay.nextReport<SessionReport>(50000);
    await worker.evaluate(`XsSession.start(${server.port})`);
    const report = await reportArrives;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    assert.deepEqual(relay.errors.map(String), [], "a delivery to the worker failed");
    assert.deepEqual(report.failures, [], `${report.failures.length} of ${report.assertions} assertions failed inside XS`);

    // What only the server saw.
    const echoClose = server.closes.find((c) => c.path === "/echo");
    assert.deepEqual(echoClose, { path: "/echo", code: 4000, reason: "done in XS \u2713" }, "the server received our close code and reason");
    assert.ok(server.pongs.includes(Buffer.from("ping me, XS").toString("hex")), `the server's ping was answered with its payload (pongs: ${server.pongs.join(", ")})`);
    await eventually(() => server.closes.some((c) => c.path === "/close4001"));
    assert.equal(server.closes.find((c) => c.path === "/close4001")?.code, 4001, "our close frame echoed the server's code (RFC 6455 §5.5.1)");
    assert.equal(report.connections, 4);
    const mib = report.messages.find((m) => m.length === 1 << 20);
    assert.ok(mib !== undefined && mib.pieces >= 1024, "the 1 MiB message came through the 1 KiB buffer in pieces");

    xsTally.assertions += report.assertions;
    xsTally.suites++;
    const s = relay.stats;
    console.log(
      `\n      ${report.assertions} assertions ran inside XS; ${report.messages.length} messages echoed, ` +
        `the 1 MiB one in ${mib.pieces} pieces; ${s.bytesOut} bytes out, ${s.bytesIn} bytes in, ` +
        `${s.deliveries} deliveries, ${s.requests} issueCommand requests, ${s.compute} XS compute units, ${seconds} s\n`,
    );
  });
});
