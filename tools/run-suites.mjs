// `npm test`: every suite runs and reports, even when an earlier one failed;
// the exit status is non-zero if any failed. Then a last check: the run left
// nothing in the temp folder.
//
// The suites run with TMPDIR set to a folder of this run's own (Node's
// os.tmpdir(), openssl and npm all honour it), so "nothing left" is exact:
// that folder must be empty at the end, whatever else runs on the machine.
// Under CI=true mocha writes no colour codes.
//
// `--skip=xs,typecheck` leaves suites out by key (build, typecheck, node, xs):
// .ci/run runs the XS suite and the type checks under one Node version only.

import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// mocha's output passes through a pipe (to count the tests): colour as a terminal would get it, none under CI.
const mocha = ["node_modules/mocha/bin/mocha.js", process.env.CI || !process.stdout.isTTY ? "--no-color" : "--color"];
const tsc = "node_modules/typescript/bin/tsc";

/** [key, name, argv for node]: in the order they run. */
const SUITES = [
  ["build", "build (tools/build.mjs)", ["tools/build.mjs"]],
  ["typecheck", "typecheck: the core (ES2022 only)", [tsc, "-p", "tsconfig.core.json"]],
  ["typecheck", "typecheck: Node host, tools, tests", [tsc, "-p", "tsconfig.json"]],
  ["typecheck", "typecheck: the XS test host", [tsc, "-p", "hosts/xs-test/tsconfig.json"]],
  ["typecheck", "typecheck: hosts/moddable against the XS emulation's shims", [tsc, "-p", "hosts/xs-test/moddable-shims/tsconfig.json"]],
  ["node", "Node tests (test/**/*.test.ts)", [...mocha, "test/**/*.test.ts"]],
  ["xs", "XS tests in xsnap (test/xs/**/*.xs-test.ts)", [...mocha, "test/xs/**/*.xs-test.ts"]],
];
const skip = new Set(process.argv.filter((a) => a.startsWith("--skip=")).flatMap((a) => a.slice(7).split(",")));

/** Runs `node args`, its output passed through as it comes; mocha's "N passing" (and failing, pending) lines are kept. */
function run(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ["inherit", "pipe", "inherit"], env });
    let tail = "";
    child.stdout.on("data", (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString()).slice(-4096);
    });
    child.on("error", (error) => resolve({ error }));
    child.on("close", (status, signal) => {
      const counts = [...tail.matchAll(/^\s*(\d+) (passing|failing|pending)\b/gm)].map((m) => `${m[1]} ${m[2]}`).join(", ");
      resolve({ status, signal, counts });
    });
  });
}

const runTmp = mkdtempSync(join(tmpdir(), "websock-test-run-"));
const env = { ...process.env, TMPDIR: runTmp };
const results = [];
// Ctrl-C reaches the suite running too (one process group): stop after it, and still clean up.
let interrupted = false;
process.on("SIGINT", () => {
  interrupted = true;
});
for (const [key, name, args] of SUITES) {
  if (skip.has(key) || interrupted) continue;
  console.log(`\n=== ${name}`);
  const started = Date.now();
  const r = await run(args);
  const status = r.error ? `could not start: ${r.error.message}` : r.signal ? `killed by ${r.signal}` : r.status === 0 ? "ok" : `failed (exit ${r.status})`;
  results.push({ name, status, counts: r.counts, seconds: (Date.now() - started) / 1000 });
}

// Compile caches in the temp folder are the tools', not a test's (tsx-<uid>; node-compile-cache,
// which npm turns on under Node 22+): they go with the folder.
const TOOL_CACHES = /^(tsx-\d+|node-compile-cache)$/;
const left = readdirSync(runTmp).filter((name) => !TOOL_CACHES.test(name));
results.push({ name: "nothing left in the temp folder", status: left.length === 0 ? "ok" : `failed: left ${left.join(", ")}`, seconds: 0 });
rmSync(runTmp, { recursive: true, force: true });

console.log(`\n=== summary (Node ${process.version})`);
for (const { name, status, counts, seconds } of results) {
  console.log(`${status === "ok" ? "ok  " : "FAIL"}  ${name}: ${status}${counts ? `, ${counts}` : ""} (${seconds.toFixed(1)} s)`);
}
const failed = results.filter((r) => r.status !== "ok").length;
console.log(failed === 0 ? "all suites passed" : `${failed} of ${results.length} failed`);
if (interrupted) console.log("interrupted: the suites after it did not run");
process.exit(interrupted ? 130 : failed === 0 ? 0 : 1);
