// Reconnect inside the real XS engine through hosts/moddable (the ECMA-419
// TCP emulation of the simulator, hosts/xs-test/ecma419-tcp.ts): a raw
// server drops, answers 503 with Retry-After (in seconds, and as an
// HTTP-date with the response's Date), resets mid-handshake and stays
// silent; websock_close during an attempt and during a wait returns within
// one timer turn. Then through a real HTTP proxy with a redirect: each
// attempt tunnels again and starts from the configured URL. The scenario
// runs in moddable-reconnect-entry.ts.

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

  it("comes back after a drop, a 503 and a reset mid-handshake; RECONNECTED once; websock_close during an attempt and during a wait returns within one timer turn; through a proxy with a redirect, each attempt tunnels again from the configured URL", async () => {
    const { startProxy } = await import("../support/proxy-server.js");
    const proxy = await startProxy();
    // The script goes by each handle's own path, counted per path: a connection websock_close drops
    // may end before or after its request reached the server, and must not shift the next handle's.
    const seen = new Map<string, number>();
    const raw = await startRawServer((p) => {
      const path = p.request.text.split(" ")[1];
      const k = (seen.get(path) ?? 0) + 1;
      seen.set(path, k);
      const s = p.socket;
      const step = `${path} ${k}`;
      if (step === "/a 1" || step === "/a 4") {
        s.write(switchingProtocols(p.request.accept));
        s.write(serverFrame(1, k === 1 ? "one" : "two"));
        setTimeout(() => s.destroy(), k === 1 ? 50 : 300);
      } else if (step === "/a 2") {
        s.end("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n");
      } else if (step === "/a 3") {
        s.write("HTTP/1.1 1");
        setTimeout(() => s.resetAndDestroy(), 30);
      } else if (step === "/b 1") {
        s.write(switchingProtocols(p.request.accept));
        setTimeout(() => s.destroy(), 50);
      } else if (step === "/b 2") {
        // The HTTP-date form: an hour after the response's own Date.
        const now = Math.floor(Date.now() / 1000) * 1000;
        s.end(`HTTP/1.1 503 Service Unavailable\r\nDate: ${new Date(now).toUTCString()}\r\nRetry-After: ${new Date(now + 3600000).toUTCString()}\r\nContent-Length: 0\r\n\r\n`);
      } else if (step === "/start 1" || step === "/start 2") {
        // Through the proxy: the configured /start redirects to /moved.
        s.end(`HTTP/1.1 302 Found\r\nLocation: /moved\r\nContent-Length: 0\r\n\r\n`);
      } else if (step === "/moved 1" || step === "/moved 2") {
        s.write(switchingProtocols(p.request.accept));
        if (k === 2) s.write(serverFrame(1, "three"));
        setTimeout(() => s.destroy(), k === 1 ? 50 : 300);
      }
      // "/a 5" and "/start 3": never answered.
    });
    const relay = new ModdableRelay();
    const worker = startXsWorker({ handleCommand: (request) => relay.answer(request) });
    relay.attach(worker);
    try {
      await worker.evaluate(await bundleModdableForXs(ENTRY, "XsReconnect"));
      const arrives = relay.nextReport<ReconnectReport>(60000);
      await worker.evaluate(`XsReconnect.runReconnect(${raw.port}, 5, ${proxy.port})`);
      const report = await arrives;
      assert.deepEqual(relay.errors.map(String), [], "a delivery to the worker failed");
      assert.deepEqual(report.failures, [], `${report.failures.length} of ${report.assertions} assertions failed inside XS`);
      // "/a 5" and "/start 3" are the attempts websock_close drops: each may end before its request reached the server.
      const count = (path: string): number => seen.get(path) ?? 0;
      assert.ok(count("/a") === 4 || count("/a") === 5, `/a: ${count("/a")} connections`);
      assert.equal(count("/b"), 2);
      assert.ok(count("/start") === 2 || count("/start") === 3, `/start: ${count("/start")} connections`);
      // Each attempt asked the configured URL first, and followed its redirect again.
      assert.equal(count("/moved"), 2);
      const proxied = raw.peers.filter((p) => /^GET \/(start|moved) /.test(p.request.text)).map((p) => p.request.text.split(" ")[1]);
      assert.deepEqual(proxied.slice(0, 4), ["/start", "/moved", "/start", "/moved"]);
      assert.ok(proxy.connects.length >= proxied.length, "a CONNECT of its own for every hop of every attempt");
      assert.ok(proxy.connects.every((c) => c === `127.0.0.1:${raw.port}`));
      // The first connection's subscription and the second's, each on its own connection.
      const onA = raw.peers.filter((p) => p.request.text.startsWith("GET /a "));
      assert.match(onA[0].frames().map((f) => Buffer.from(f.payload).toString()).join(","), /sub 1/);
      assert.match(onA[3].frames().map((f) => Buffer.from(f.payload).toString()).join(","), /sub 2/);
      assert.equal(report.timersLeft, 0, "no timer left set after both handles closed");
      xsTally.assertions += report.assertions;
      xsTally.suites++;
    } finally {
      relay.shutdown();
      const exit = await worker.close();
      await Promise.all([raw.stop(), proxy.stop()]);
      assert.deepEqual(exit, { code: 0, signal: null }, "the xsnap worker did not exit cleanly");
    }
  });
});
