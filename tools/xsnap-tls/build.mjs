// Builds an xsnap worker with websock's mbedTLS engine compiled in
// (hosts/moddable/mbedtls/websock_tls.c), for the XS TLS tests: the XS
// engine @agoric/xsnap built at npm install, its xsnap-worker.c with one line
// added (websock_tls_install in xsBuildAgent), linked against an mbedTLS.
//
//   node tools/xsnap-tls/build.mjs [--asan] [--mbedtls=DIR] [--heap]
//
// prints the path of the binary. The engine's C (and the install glue) is
// compiled with -Wall -Wextra -Werror; the XS objects are the package's own
// release build, reused. --asan compiles the engine and the worker with
// AddressSanitizer (LeakSanitizer reports at exit). --mbedtls=DIR links
// DIR/include and DIR/library/libmbed*.a (an mbedTLS 3.x built by hand)
// instead of the system's libmbedtls-dev. --heap (benchmarks) links copies
// of Debian's static libmbed*.a whose calloc and free are renamed to the
// counters of heap.c (objcopy), and adds websockTlsHeap(). Outputs go to
// node_modules/.cache/websock-xsnap-tls/<variant>/ and are rebuilt when a
// source is newer than the binary.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const XSNAP = path.join(ROOT, "node_modules/@agoric/xsnap");
const MODDABLE = path.join(XSNAP, "moddable");
const XS_DIR = path.join(MODDABLE, "xs");
const WORKER_SOURCES = path.join(XSNAP, "xsnap-native/xsnap/sources");
const XS_OBJECTS = path.join(XSNAP, "xsnap-native/xsnap/build/tmp/lin/release/xsnap-worker");
const ENGINE_C = path.join(ROOT, "hosts/moddable/mbedtls/websock_tls.c");
const INSTALL_C = path.join(ROOT, "tools/xsnap-tls/install.c");
const HEAP_C = path.join(ROOT, "tools/xsnap-tls/heap.c");
const SYSTEM_LIBS = "/usr/lib/x86_64-linux-gnu";

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

/** Builds (when out of date) and returns the worker's path. */
export function buildTlsWorker({ asan = false, mbedtls = "", heap = false } = {}) {
  const variant = `${mbedtls ? "mbedtls3" : "system"}-${asan ? "asan" : "release"}${heap ? "-heap" : ""}`;
  const out = path.join(ROOT, "node_modules/.cache/websock-xsnap-tls", variant);
  const binary = path.join(out, "xsnap-worker");
  const sources = [ENGINE_C, INSTALL_C, HEAP_C, fileURLToPath(import.meta.url), path.join(WORKER_SOURCES, "xsnap-worker.c")];
  if (existsSync(binary) && sources.every((s) => statSync(s).mtimeMs < statSync(binary).mtimeMs)) return binary;
  mkdirSync(out, { recursive: true });

  const version = JSON.parse(readFileSync(path.join(XSNAP, "package.json"), "utf8")).version;
  // xsnap-worker.c with the install call added after its own modules' (text codecs, base64).
  const workerC = readFileSync(path.join(WORKER_SOURCES, "xsnap-worker.c"), "utf8");
  const hook = "\tmodInstallBase64(the);\n";
  if (!workerC.includes(hook)) throw new Error("xsnap-worker.c changed: modInstallBase64(the) not found");
  const agent = "void xsBuildAgent(xsMachine* machine)\n";
  if (!workerC.includes(agent)) throw new Error("xsnap-worker.c changed: xsBuildAgent not found");
  const patched = workerC.replace(agent, `extern void websock_tls_install(xsMachine* the);\n${agent}`).replace(hook, `${hook}\twebsock_tls_install(the);\n`);
  const patchedPath = path.join(out, "xsnap-worker-tls.c");
  writeFileSync(patchedPath, patched);

  const common = [...xsOptions(version), ...(asan ? ["-fsanitize=address", "-fno-omit-frame-pointer", "-g", "-O1"] : ["-O2"])];
  const mbedtlsInclude = mbedtls ? [`-I${path.join(mbedtls, "include")}`] : [];
  const strict = ["-Wall", "-Wextra", "-Werror", "-std=gnu11"];
  const cc = process.env.CC ?? "cc";
  const compile = (source, object, flags) => execFileSync(cc, [...common, ...flags, "-c", source, "-o", object], { stdio: "inherit" });
  compile(ENGINE_C, path.join(out, "websock_tls.o"), [...strict, ...mbedtlsInclude]);
  compile(INSTALL_C, path.join(out, "install.o"), heap ? [...strict, "-DWS_TLS_HEAP_STATS"] : strict);
  const extra = [];
  if (heap) {
    compile(HEAP_C, path.join(out, "heap.o"), strict);
    extra.push(path.join(out, "heap.o"));
  }
  // The package's own file, as its makefile compiles it (its warnings are not ours to fail on).
  compile(patchedPath, path.join(out, "xsnap-worker.o"), ["-Wno-misleading-indentation", "-Wno-implicit-fallthrough"]);

  const xsObjects = readdirSync(XS_OBJECTS).filter((f) => f.endsWith(".o") && f !== "xsnap-worker.o").map((f) => path.join(XS_OBJECTS, f));
  if (xsObjects.length < 40) throw new Error(`the XS objects of @agoric/xsnap's release build are missing in ${XS_OBJECTS} (npm ci builds them)`);
  const archives = ["libmbedtls.a", "libmbedx509.a", "libmbedcrypto.a"];
  let libs = mbedtls ? archives.map((l) => path.join(mbedtls, "library", l)) : ["-lmbedtls", "-lmbedx509", "-lmbedcrypto"];
  if (heap) {
    libs = archives.map((l) => {
      const copy = path.join(out, l);
      execFileSync("objcopy", ["--redefine-sym", "calloc=ws_heap_calloc", "--redefine-sym", "free=ws_heap_free", path.join(mbedtls ? path.join(mbedtls, "library") : SYSTEM_LIBS, l), copy]);
      return copy;
    });
  }
  execFileSync(cc, [
    ...(asan ? ["-fsanitize=address"] : []), "-rdynamic",
    path.join(out, "xsnap-worker.o"), path.join(out, "websock_tls.o"), path.join(out, "install.o"), ...extra, ...xsObjects,
    ...libs, "-ldl", "-lm", "-lpthread", "-o", binary,
  ], { stdio: "inherit" });
  return binary;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mbedtls = process.argv.find((a) => a.startsWith("--mbedtls="))?.slice("--mbedtls=".length) ?? "";
  console.log(buildTlsWorker({ asan: process.argv.includes("--asan"), heap: process.argv.includes("--heap"), mbedtls: mbedtls ? path.resolve(mbedtls) : "" }));
}
