// Builds the Node package (dist/node), its type declarations (dist/types) and
// the tools (dist/tools) with esbuild. Run by `npm run build`; `npm test` and
// `npm start` build first.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";

const common = { bundle: true, format: "esm", platform: "node", target: "node20", sourcemap: true, logLevel: "warning" };

await build({ ...common, entryPoints: ["hosts/node/index.ts"], outfile: "dist/node/index.js" });

// Tools import "websock-rfc6455", the package itself: it stays external, as it would for a user.
// fuzz.ts is a development tool run with tsx; it bundles fast-check and does not ship.
const tools = readdirSync("tools").filter((f) => f.endsWith(".ts") && f !== "fuzz.ts").map((f) => `tools/${f}`);
if (tools.length > 0) {
  await build({ ...common, entryPoints: tools, outdir: "dist/tools", external: ["websock-rfc6455", "ws"], banner: { js: "#!/usr/bin/env node" } });
}

if (!process.argv.includes("--no-types")) {
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });
}
if (!existsSync("dist/node/index.js")) throw new Error("build produced no dist/node/index.js");
