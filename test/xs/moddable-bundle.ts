// Bundles an XS entry that imports hosts/moddable as a Moddable app does:
// the module names of hosts/moddable/manifest.json ("websock",
// "websock/src/*", "websock/hosts/moddable/*") map to this repository, and
// the platform's modules map to the emulation inside the xsnap worker:
//   embedded:io/socket/tcp -> hosts/xs-test/ecma419-tcp.ts (lin/tcp.c's semantics, over the relay)
//   timer, time, crypt, net, text/encoder -> hosts/xs-test/moddable-shims/*
//   ssl/session, x509       -> hosts/xs-test/moddable-shims/tls-unavailable.ts (Moddable's TLS is not emulated)
//   websock/hosts/moddable/mbedtls/tls-engine -> hosts/xs-test/moddable-shims/tls-engine.ts (websock_tls.c itself,
//                              when the worker was built with it: tools/xsnap-tls/build.mjs)
//   websock/hosts/moddable/utf8/utf8-writer -> hosts/xs-test/moddable-shims/utf8-writer.ts (websock_utf8.c itself,
//                              when the worker was built with it: tools/xsnap-utf8/build.mjs; else null)

import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Plugin } from "esbuild";
import { bundleForXs } from "./xsnap-driver.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SHIMS = path.join(ROOT, "hosts/xs-test/moddable-shims");

const PLATFORM_MODULES: Readonly<Record<string, string>> = Object.freeze({
  "embedded:io/socket/tcp": path.join(ROOT, "hosts/xs-test/ecma419-tcp.ts"),
  timer: path.join(SHIMS, "timer.ts"),
  time: path.join(SHIMS, "time.ts"),
  crypt: path.join(SHIMS, "crypt.ts"),
  net: path.join(SHIMS, "net.ts"),
  "text/encoder": path.join(SHIMS, "text-encoder.ts"),
  "ssl/session": path.join(SHIMS, "tls-unavailable.ts"),
  x509: path.join(SHIMS, "tls-unavailable.ts"),
});

/** The manifest's module names and the Moddable platform's, as esbuild resolves them. */
export const moddableModules: Plugin = {
  name: "moddable-modules",
  setup(build) {
    build.onResolve({ filter: /^(websock(\/.*)?|embedded:.*|timer|time|crypt|net|text\/encoder|ssl\/session|x509)$/ }, (args) => {
      const spec = args.path;
      if (spec === "websock") return { path: path.join(ROOT, "hosts/moddable/index.ts") };
      if (spec === "websock/hosts/moddable/mbedtls/tls-engine") return { path: path.join(SHIMS, "tls-engine.ts") };
      if (spec === "websock/hosts/moddable/utf8/utf8-writer") return { path: path.join(SHIMS, "utf8-writer.ts") };
      if (spec.startsWith("websock/src/")) return { path: path.join(ROOT, "src", `${spec.slice("websock/src/".length)}.ts`) };
      if (spec.startsWith("websock/hosts/moddable/")) return { path: path.join(ROOT, "hosts/moddable", `${spec.slice("websock/hosts/moddable/".length)}.ts`) };
      const mapped = PLATFORM_MODULES[spec];
      if (mapped !== undefined) return { path: mapped };
      return { errors: [{ text: `no emulation of the Moddable module "${spec}"` }] };
    });
  },
};

export function bundleModdableForXs(entry: string, globalName: string): Promise<string> {
  return bundleForXs(entry, globalName, [moddableModules]);
}
