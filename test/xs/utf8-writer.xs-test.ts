// Issue 17: websock's native UTF-8 writer (hosts/moddable/utf8/websock_utf8.c)
// inside the real XS engine. An xsnap worker is built with it compiled in
// (tools/xsnap-utf8/build.mjs) and the XS test host hands it to the core
// (Host.utf8Writer): text messages go through a 256-byte tx buffer, masked,
// to a real `ws` server, which must receive exactly the bytes Node's
// TextEncoder makes of each (ws itself fails a text message that is not
// UTF-8 with 1007). The writer is also driven directly at every room from
// 1 to 8 bytes.
//
// WEBSOCK_UTF8_ASAN=1 builds and runs the worker under AddressSanitizer.

import { strict as assert } from "node:assert";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { WebSocketServer } from "ws";
import { Relay } from "./relay.js";
import { textCases } from "./utf8-cases.js";
import type { Utf8Report } from "./xs-utf8-entry.js";
import { xsTally } from "./xs-tally.js";
import { bundleForXs, decodeJson, startXsWorker, xsEngineVersion, type XsWorker } from "./xsnap-driver.js";
// @ts-expect-error: a plain .mjs build script, no types
import { buildUtf8Worker } from "../../tools/xsnap-utf8/build.mjs";

const ENTRY = fileURLToPath(new URL("./xs-utf8-entry.ts", import.meta.url));
const ASAN = process.env.WEBSOCK_UTF8_ASAN === "1";

/** Counts the writer's calls: evaluated before the bundle, whose test host takes the global as it loads. */
const COUNT_CALLS = `{
  const real = globalThis.WebsockUtf8Writer;
  globalThis.utf8WriterCalls = 0;
  globalThis.WebsockUtf8Writer = { write(t, s, o, a, b) { globalThis.utf8WriterCalls++; return real.write(t, s, o, a, b); } };
}`;

const encoder = new TextEncoder();
const expected = (text: string, len?: number): Buffer => Buffer.from(encoder.encode(len === undefined ? text : text.slice(0, len)));

describe(`inside XS (${xsEngineVersion()}): text through websock's native UTF-8 writer${ASAN ? " (AddressSanitizer)" : ""}`, function () {
  this.timeout(120000);
  let worker: XsWorker;
  let relay: Relay;
  let httpServer: http.Server;
  let port = 0;
  const received: Array<{ data: Buffer; isBinary: boolean }> = [];
  const closes: number[] = [];

  before(async () => {
    httpServer = http.createServer();
    const wss = new WebSocketServer({ server: httpServer });
    wss.on("connection", (ws) => {
      ws.on("message", (data, isBinary) => received.push({ data: Buffer.from(data as Buffer), isBinary }));
      ws.on("close", (code) => closes.push(code));
    });
    await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
    port = (httpServer.address() as AddressInfo).port;
    relay = new Relay();
    worker = startXsWorker({ binary: buildUtf8Worker({ asan: ASAN }), handleCommand: (request) => relay.answer(request) });
    relay.attach(worker);
    await worker.evaluate(COUNT_CALLS);
    await worker.evaluate(await bundleForXs(ENTRY, "XsUtf8"));
  });

  after(async () => {
    relay?.shutdown();
    const exit = await worker?.close();
    await new Promise((resolve) => httpServer?.close(resolve));
    assert.deepEqual(exit, { code: 0, signal: null }, "the xsnap worker did not exit cleanly (under ASAN: a leak or a bad access)");
  });

  it("writes what TextEncoder writes, at every room from 1 to 8 bytes, and refuses bad arguments", async () => {
    const { results, errors } = decodeJson<{ results: string[][]; errors: string[] }>((await worker.evaluate("XsUtf8.direct()")).reply);
    const cases = textCases().slice(0, 16);
    assert.equal(results.length, cases.length);
    cases.forEach((c, i) => {
      const want = expected(c.text, c.len).toString("hex");
      results[i].forEach((got, r) => assert.equal(got, want, `${c.what}, ${r + 1} bytes of room per call`));
    });
    assert.deepEqual(errors, [
      "not a string: TypeError",
      "state too short: RangeError",
      "end past out: RangeError",
      "start after end: RangeError",
      "negative start: RangeError",
      "offset inside a character: RangeError",
    ]);
    xsTally.assertions += cases.length * 8;
  });

  it("sends text that a ws server receives as exactly TextEncoder's bytes: every character kind, U+0000, lone surrogates, pairs cut by len, every piece boundary of a 256 B tx buffer, 100 KiB messages", async () => {
    const cases = textCases();
    const reportArrives = relay.nextReport<Utf8Report>(100000);
    await worker.evaluate(`XsUtf8.start(${port})`);
    const report = await reportArrives;
    assert.deepEqual(relay.errors.map(String), [], "a delivery to the worker failed");
    assert.deepEqual(report.failures, []);
    assert.equal(report.sent, cases.length);
    // Every message but the empty one needs the writer, at least once per tx piece.
    assert.ok(report.writerCalls >= cases.length - 1, `the writer was called ${report.writerCalls} times for ${cases.length} messages`);
    const deadline = Date.now() + 10000;
    while ((received.length < cases.length || closes.length === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(received.length, cases.length, "messages the server received");
    cases.forEach((c, i) => {
      const got = received[i];
      assert.equal(got.isBinary, false, `${c.what}: a text message`);
      const want = expected(c.text, c.len);
      if (!got.data.equals(want)) {
        let at = 0;
        while (at < want.length && got.data[at] === want[at]) at++;
        assert.fail(`${c.what}: ${got.data.length} bytes received, ${want.length} expected; first difference at byte ${at}: ${got.data.subarray(at, at + 8).toString("hex")} vs ${want.subarray(at, at + 8).toString("hex")}`);
      }
    });
    assert.deepEqual(closes, [1000], "the client closed normally (ws fails invalid UTF-8 with 1007)");
    xsTally.assertions += cases.length;
    xsTally.suites++;
  });
});
