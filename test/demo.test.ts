// `npm start`, as a newcomer runs it: the demo (dist/tools/demo.js, built by
// test/cli.test.ts's build or `npm run build`) against its own echo server.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";

describe("the demo (npm start)", function () {
  this.timeout(20000);

  it("runs to its end: every call returns what it says, then what happened in words and where to read on", function () {
    execFileSync(process.execPath, ["tools/build.mjs", "--no-types"], { stdio: "pipe" });
    const out = execFileSync(process.execPath, ["dist/tools/demo.js"], { encoding: "utf8", timeout: 15000 });
    assert.match(out, /^received text \(8-byte buffer\) +-> Hello from websock ☃$/m);
    assert.match(out, /^received binary \(256-byte buffer\) +-> 1000 bytes, identical$/m);
    assert.match(out, /^websock_send_text on the closed handle +-> -1: invalid argument: h is not an open websock handle/m);
    assert.match(out, /\nWhat happened: websock opened a WebSocket/);
    assert.ok(out.trimEnd().split("\n").pop()!.includes("npm test"), "the last line points to the tests");
    assert.ok(!/opcodes:/.test(out));
  });
});
