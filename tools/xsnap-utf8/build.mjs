// Builds an xsnap worker with websock's UTF-8 writer compiled in
// (hosts/moddable/utf8/websock_utf8.c), installed as the global
// WebsockUtf8Writer (install.c): the XS test host hands it to the core as
// Host.utf8Writer (hosts/xs-test/xs-test-host.ts), as the Moddable host does
// with the module hosts/moddable/utf8/utf8-writer.js.
//
//   node tools/xsnap-utf8/build.mjs [--asan]
//
// prints the path of the binary (tools/lib/xsnap-worker.mjs builds it:
// -Wall -Wextra -Werror; --asan with AddressSanitizer). Plain C, no library.

import path from "node:path";
import { fileURLToPath } from "node:url";
import { ROOT, buildXsnapWorker } from "../lib/xsnap-worker.mjs";

/** Builds (when out of date) and returns the worker's path. */
export function buildUtf8Worker({ asan = false } = {}) {
  return buildXsnapWorker({
    cache: "websock-xsnap-utf8",
    variant: asan ? "asan" : "release",
    units: [{ source: path.join(ROOT, "hosts/moddable/utf8/websock_utf8.c") }, { source: path.join(ROOT, "tools/xsnap-utf8/install.c") }],
    installs: ["websock_utf8_install"],
    inputs: [fileURLToPath(import.meta.url)],
    asan,
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(buildUtf8Worker({ asan: process.argv.includes("--asan") }));
}
