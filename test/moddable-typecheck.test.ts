// The Moddable host and the Moddable apps (the echo example at the root
// manifest, the Autobahn client) type-checked against @moddable/typings, with
// their own tsconfig (hosts/moddable/tsconfig.json): Node's build never
// compiles them, so without this a type error there would go unnoticed until
// someone runs mcconfig.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

describe("Moddable host", () => {
  it("type-checks with tsc -p hosts/moddable --noEmit", function () {
    this.timeout(60000);
    const r = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "hosts/moddable/tsconfig.json", "--noEmit"], { encoding: "utf8" });
    assert.equal(r.status, 0, `tsc reported:\n${r.stdout}${r.stderr}`);
  });
});
