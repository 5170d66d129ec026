// permessage-deflate inside the real XS engine: the offer, the answer's
// checks and the inflater run in an xsnap worker (xs-deflate-session-entry.ts);
// this process relays TCP bytes (relay.ts) to a ws server that compresses
// everything it sends, at the window the client asks for.

import { strict as assert } from "node:assert";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { WebSocketServer, type WebSocket } from "ws";
import { Relay } from "./relay.js";
import type { DeflateSessionReport } from "./xs-deflate-session-entry.js";
import { xsTally } from "./xs-tally.js";
import { bundleForXs, startXsWorker, xsEngineVersion, type XsWorker } from "./xsnap-driver.js";

describe(`inside XS (${xsEngineVersion()}): permessage-deflate sessions against a ws server`, function () {
  this.timeout(60000);
  let server: http.Server;
  let wss: WebSocketServer;
  const sockets: WebSocket[] = [];
  let written = 0;
  let worker: XsWorker;
  let relay: Relay;

  before(async () => {
    server = http.createServer();
    wss = new WebSocketServer({ server, perMessageDeflate: { threshold: 0 } });
    wss.on("connection", (ws, req) => {
      sockets.push(ws);
      req.socket.on("close", () => (written += req.socket.bytesWritten));
      ws.on("error", () => {});
      ws.on("message", (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    relay = new Relay();
    worker = startXsWorker({ handleCommand: (request) => relay.answer(request) });
    relay.attach(worker);
    await worker.evaluate(await bundleForXs(fileURLToPath(new URL("./xs-deflate-session-entry.ts", import.meta.url)), "XsDeflate"));
  });

  after(async () => {
    relay?.shutdown();
    const exit = await worker?.close();
    for (const ws of sockets) ws.terminate();
    wss?.close();
    await new Promise<void>((r) => server.close(() => r()));
    assert.deepEqual(exit, { code: 0, signal: null }, "the xsnap worker did not exit cleanly");
  });

  it("windows 9 (context takeover), 12 (no context takeover) and 15: text and binary inflated inside XS, byte for byte", async () => {
    const reportArrives = relay.nextReport<DeflateSessionReport>(50000);
    await worker.evaluate(`XsDeflate.start(${(server.address() as AddressInfo).port})`);
    const report = await reportArrives;
    assert.deepEqual(relay.errors.map(String), [], "a delivery to the worker failed");
    assert.deepEqual(report.failures, [], `${report.failures.length} of ${report.assertions} assertions failed inside XS`);
    assert.deepEqual(report.sessions.map((s) => s.bits), [9, 12, 15]);
    const inflated = report.sessions.reduce((a, s) => a + s.bytes, 0);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(written > 0 && written < inflated / 3, `the server compressed: ${written} bytes on the wire for ${inflated} inflated`);
    xsTally.assertions += report.assertions;
    xsTally.suites++;
    console.log(`\n      ${report.assertions} assertions ran inside XS; ${inflated} bytes inflated from ${written} on the wire\n`);
  });
});
