// `npm run bench`: runs every bench module in tools/bench/, one after the
// other, each in its own Node process (TypeScript through tsx).
//   A bench module: any .ts, .mjs or .js file directly in tools/bench/, but
//   this runner and the *-entry.ts files (code bundled into another engine).
//   `npm run bench -- NAME...` runs only the modules whose file name contains a NAME.
// Exits non-zero if any module fails.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const filters = process.argv.slice(2);
const modules = readdirSync(dir)
  .filter((f) => /\.(ts|mjs|js)$/.test(f) && !f.endsWith(".d.ts") && f !== "run.mjs" && !/-entry\.ts$/.test(f))
  .filter((f) => filters.length === 0 || filters.some((name) => f.includes(name)))
  .sort();
if (modules.length === 0) {
  console.error(`no bench module in tools/bench/${filters.length > 0 ? ` matching ${filters.join(", ")}` : ""}`);
  process.exit(1);
}
// ws as `npm install ws` gives it: its optional native addons (bufferutil, utf-8-validate) stay off
// even where another package pulled them in (the `websocket` test peer does). WS_NO_BUFFER_UTIL=0
// and WS_NO_UTF_8_VALIDATE=0 (empty: unset) compare against ws with them.
const benchEnv = { ...process.env };
for (const name of ["WS_NO_BUFFER_UTIL", "WS_NO_UTF_8_VALIDATE"]) {
  if (benchEnv[name] === undefined) benchEnv[name] = "1";
  else if (benchEnv[name] === "0") delete benchEnv[name];
}
let failed = 0;
for (const file of modules) {
  console.log(`\n## ${file}\n`);
  const result = spawnSync(process.execPath, ["--import", "tsx", `${dir}${file}`], { stdio: "inherit", env: benchEnv });
  if (result.status !== 0) {
    failed++;
    console.error(`${file} failed (${result.signal ?? `exit ${result.status}`})`);
  }
}
process.exit(failed > 0 ? 1 : 0);
