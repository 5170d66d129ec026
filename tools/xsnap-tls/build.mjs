// Builds an xsnap worker with websock's mbedTLS engine compiled in
// (hosts/moddable/mbedtls/websock_tls.c), for the XS TLS tests: the XS
// engine @agoric/xsnap built at npm install, its xsnap-worker.c calling
// websock_tls_install (tools/lib/xsnap-worker.mjs), linked against an mbedTLS.
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
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ROOT, buildXsnapWorker } from "../lib/xsnap-worker.mjs";

const ENGINE_C = path.join(ROOT, "hosts/moddable/mbedtls/websock_tls.c");
const INSTALL_C = path.join(ROOT, "tools/xsnap-tls/install.c");
const HEAP_C = path.join(ROOT, "tools/xsnap-tls/heap.c");
const SYSTEM_LIBS = "/usr/lib/x86_64-linux-gnu";
const ARCHIVES = ["libmbedtls.a", "libmbedx509.a", "libmbedcrypto.a"];

/** Builds (when out of date) and returns the worker's path. */
export function buildTlsWorker({ asan = false, mbedtls = "", heap = false } = {}) {
  const mbedtlsInclude = mbedtls ? [`-I${path.join(mbedtls, "include")}`] : [];
  const units = [
    { source: ENGINE_C, flags: mbedtlsInclude },
    { source: INSTALL_C, flags: heap ? ["-DWS_TLS_HEAP_STATS"] : [] },
    ...(heap ? [{ source: HEAP_C }] : []),
  ];
  const libs = heap
    ? (out) => ARCHIVES.map((l) => {
      const copy = path.join(out, l);
      execFileSync("objcopy", ["--redefine-sym", "calloc=ws_heap_calloc", "--redefine-sym", "free=ws_heap_free", path.join(mbedtls ? path.join(mbedtls, "library") : SYSTEM_LIBS, l), copy]);
      return copy;
    })
    : mbedtls ? ARCHIVES.map((l) => path.join(mbedtls, "library", l)) : ["-lmbedtls", "-lmbedx509", "-lmbedcrypto"];
  return buildXsnapWorker({
    cache: "websock-xsnap-tls",
    variant: `${mbedtls ? "mbedtls3" : "system"}-${asan ? "asan" : "release"}${heap ? "-heap" : ""}`,
    units,
    installs: ["websock_tls_install"],
    libs,
    inputs: [HEAP_C, fileURLToPath(import.meta.url)],
    asan,
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mbedtls = process.argv.find((a) => a.startsWith("--mbedtls="))?.slice("--mbedtls=".length) ?? "";
  console.log(buildTlsWorker({ asan: process.argv.includes("--asan"), heap: process.argv.includes("--heap"), mbedtls: mbedtls ? path.resolve(mbedtls) : "" }));
}
