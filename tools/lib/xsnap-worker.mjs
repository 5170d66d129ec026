// Builds an xsnap worker with some of websock's C compiled in: the XS engine
// @agoric/xsnap built at npm install, its xsnap-worker.c with calls to the
// natives' install functions added (in xsBuildAgent, after the worker's own
// modules), linked with the package's own release objects. Shared by
// tools/xsnap-tls/build.mjs (the mbedTLS engine) and
// tools/xsnap-utf8/build.mjs (the UTF-8 writer).
//
// Our C is compiled with -Wall -Wextra -Werror; asan compiles it and the
// worker with AddressSanitizer (LeakSanitizer reports at exit). A variant's
// outputs go to node_modules/.cache/<cache>/<variant>/ and are rebuilt when
// one of its inputs is newer than the binary.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const XSNAP = path.join(ROOT, "node_modules/@agoric/xsnap");
const MODDABLE = path.join(XSNAP, "moddable");
const XS_DIR = path.join(MODDABLE, "xs");
const WORKER_SOURCES = path.join(XSNAP, "xsnap-native/xsnap/sources");
const XS_OBJECTS = path.join(XSNAP, "xsnap-native/xsnap/build/tmp/lin/release/xsnap-worker");

/** What our own C is compiled with, besides the XS defines. */
export const STRICT = Object.freeze(["-Wall", "-Wextra", "-Werror", "-std=gnu11"]);

/** The defines xsnap-worker.mk compiles every XS object with: the machine's layout depends on them. */
function xsOptions(version) {
  return [
    "-fno-common", "-DINCLUDE_XSPLATFORM", '-DXSPLATFORM="xsnapPlatform.h"', `-DXSNAP_VERSION="${version}"`,
    "-DXSNAP_TEST_RECORD=0", "-DmxLockdown=1", "-DmxMetering=1", "-DmxDebug=1", "-UmxInstrument", "-DmxNoConsole=1",
    "-DmxBoundsCheck=1", "-DmxParse=1", "-DmxRun=1", "-DmxSloppy=1", "-DmxSnapshot=1", "-DmxRegExpUnicodePropertyEscapes=1",
    "-DmxStringNormalize=1", "-DmxMinusZero=1",
    `-I${path.join(XS_DIR, "includes")}`, `-I${path.join(XS_DIR, "platforms")}`, `-I${path.join(XS_DIR, "sources")}`, `-I${WORKER_SOURCES}`,
  ];
}

/**
 * Builds (when out of date) and returns the worker's path.
 *   cache, variant: where it goes (node_modules/.cache/<cache>/<variant>/)
 *   units: [{ source, flags }] our C files (compiled with STRICT and flags)
 *   installs: the install functions xsBuildAgent calls, in order
 *   libs: what the link adds (archives, -l flags), or a function of the output directory that makes them there
 *   inputs: further files whose change means a rebuild (the calling script)
 */
export function buildXsnapWorker({ cache, variant, units, installs, libs = [], inputs = [], asan = false }) {
  const out = path.join(ROOT, "node_modules/.cache", cache, variant);
  const binary = path.join(out, "xsnap-worker");
  const sources = [...units.map((u) => u.source), ...inputs, fileURLToPath(import.meta.url), path.join(WORKER_SOURCES, "xsnap-worker.c")];
  if (existsSync(binary) && sources.every((s) => statSync(s).mtimeMs < statSync(binary).mtimeMs)) return binary;
  mkdirSync(out, { recursive: true });

  const version = JSON.parse(readFileSync(path.join(XSNAP, "package.json"), "utf8")).version;
  // xsnap-worker.c with the install calls added after its own modules' (text codecs, base64).
  const workerC = readFileSync(path.join(WORKER_SOURCES, "xsnap-worker.c"), "utf8");
  const hook = "\tmodInstallBase64(the);\n";
  if (!workerC.includes(hook)) throw new Error("xsnap-worker.c changed: modInstallBase64(the) not found");
  const agent = "void xsBuildAgent(xsMachine* machine)\n";
  if (!workerC.includes(agent)) throw new Error("xsnap-worker.c changed: xsBuildAgent not found");
  const declarations = installs.map((f) => `extern void ${f}(xsMachine* the);\n`).join("");
  const calls = installs.map((f) => `\t${f}(the);\n`).join("");
  const patchedPath = path.join(out, "xsnap-worker-websock.c");
  writeFileSync(patchedPath, workerC.replace(agent, `${declarations}${agent}`).replace(hook, `${hook}${calls}`));

  const common = [...xsOptions(version), ...(asan ? ["-fsanitize=address", "-fno-omit-frame-pointer", "-g", "-O1"] : ["-O2"])];
  const cc = process.env.CC ?? "cc";
  const compile = (source, object, flags) => execFileSync(cc, [...common, ...flags, "-c", source, "-o", object], { stdio: "inherit" });
  const objects = units.map((u) => {
    const object = path.join(out, `${path.basename(u.source, ".c")}.o`);
    compile(u.source, object, [...STRICT, ...(u.flags ?? [])]);
    return object;
  });
  // The package's own file, as its makefile compiles it (its warnings are not ours to fail on).
  compile(patchedPath, path.join(out, "xsnap-worker.o"), ["-Wno-misleading-indentation", "-Wno-implicit-fallthrough"]);

  const xsObjects = readdirSync(XS_OBJECTS).filter((f) => f.endsWith(".o") && f !== "xsnap-worker.o").map((f) => path.join(XS_OBJECTS, f));
  if (xsObjects.length < 40) throw new Error(`the XS objects of @agoric/xsnap's release build are missing in ${XS_OBJECTS} (npm ci builds them)`);
  const linked = typeof libs === "function" ? libs(out) : libs;
  execFileSync(cc, [
    ...(asan ? ["-fsanitize=address"] : []), "-rdynamic",
    path.join(out, "xsnap-worker.o"), ...objects, ...xsObjects,
    ...linked, "-ldl", "-lm", "-lpthread", "-o", binary,
  ], { stdio: "inherit" });
  return binary;
}
