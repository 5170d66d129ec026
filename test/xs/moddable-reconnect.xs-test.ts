// Reconnect inside the real XS engine through hosts/moddable (the ECMA-419
// TCP emulation of the simulator, hosts/xs-test/ecma419-tcp.ts): a raw
// server drops, answers 503 with Retry-After, resets mid-handshake and stays
// silent; websock_close during an attempt and during a wait returns within
// one timer turn. The scenario runs in moddable-reconnect-entry.ts.

import { strict as assert } from "node:assert";
import { fileURLToPath } from "node:url";
import { startRawServer, serverFrame, switchingProtocols } from "../support/raw-server.js";
import { ModdableRelay } from "./ecma419-kernel.js";
import { bundleModdableForXs } from "./moddable-bundle.js";
import type { ReconnectReport } from "./moddable-reports.js";
import { xsTally } from "./xs-tally.js";
import { startXsWorker, xsEngineVersion } from "./xsnap-driver.js";

const ENTRY = fileURLToPath(new URL("./moddable-reconnect-entry.ts", import.meta.url));

describe(`inside XS (${xsEngineVersion()}): reconnect on hosts/moddable`, function () {
  this.timeout(90000);

  it("comes back after a drop, a 503 and a reset mid-handshake; RECONNECTED once; websock_close during an attempt and during a wait returns within one timer turn", async () => {
    // Counted by path: the first handle's fifth attempt is closed while it connects, so whether the
    // server accepts it before the second handle's first connection arrives is a race.
    let n = 0;
    let second = 0;
    const raw = await startRawServer((p) => {
      const s = p.socket;
      if (p.request.text.startsWith("GET /second ")) {
        second++;
        if (second === 1) {
          s.write(switchingProtocols(p.request.accept));
          setTimeout(() => s.destroy(), 50);
        } else if (second === 2) {
          s.end("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 3600\r\nContent-Length: 0\r\n\r\n");
        }
        return;
      }
      n++;
      if (n === 1 || n === 4) {
        s.write(switchingProtocols(p.request.accept));
        s.write(serverFrame(1, n === 1 ? "one" : "two"));
        setTimeout(() => s.destroy(), n === 1 ? 50 : 300);
      } else if (n === 2) {
        s.end("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n");
      } else if (n === 3) {
        s.write("HTTP/1.1 1");
        setTimeout(() => s.resetAndDestroy(), 30);
      }
      // 5: never answered.
    });
    const relay = new ModdableRelay();
    const worker = startXsWorker({ handleCommand: (request) => relay.answer(request) });
    relay.attach(worker);
    try {
      await worker.evaluate(await bundleModdableForXs(ENTRY, "XsReconnect"));
      const arrives = relay.nextReport<ReconnectReport>(60000);
      await worker.evaluate(`XsReconnect.runReconnect(${raw.port}, 5)`);
      const report = await arrives;
      assert.deepEqual(relay.errors.map(String), [], "a delivery to the worker failed");
      assert.deepEqual(report.failures, [], `${report.failures.length} of ${report.assertions} assertions failed inside XS`);
      assert.ok(n === 4 || n === 5, `the server saw the first handle's connections of the script (${n})`);
      assert.equal(second, 2, "the server saw the second handle's connections of the script");
      // The first connection's subscription and the second's, each on its own connection.
      assert.match(raw.peers[0].frames().map((f) => Buffer.from(f.payload).toString()).join(","), /sub 1/);
      assert.match(raw.peers[3].frames().map((f) => Buffer.from(f.payload).toString()).join(","), /sub 2/);
      assert.equal(report.timersLeft, 0, "no timer left set after both handles closed");
      xsTally.assertions += report.assertions;
      xsTally.suites++;
    } finally {
      relay.shutdown();
      const exit = await worker.close();
      await raw.stop();
      assert.deepEqual(exit, { code: 0, signal: null }, "the xsnap worker did not exit cleanly");
    }
  });
});
