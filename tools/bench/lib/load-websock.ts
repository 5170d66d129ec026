// websock as it ships: the Node entry bundled by esbuild as tools/build.mjs
// does, imported from a temporary file. Run through tsx instead, every
// closure websock creates per message would carry a cost the package does
// not have.

import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

export async function loadWebsock(): Promise<typeof import("../../../hosts/node/index.js")> {
  const out = path.join(tmpdir(), `websock-bench-${process.pid}.mjs`);
  await build({
    entryPoints: [fileURLToPath(new URL("../../../hosts/node/index.ts", import.meta.url))],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outfile: out,
    logLevel: "warning",
  });
  try {
    return await import(pathToFileURL(out).href);
  } finally {
    rmSync(out, { force: true });
  }
}
