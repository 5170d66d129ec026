// --version: the package's version, read from its package.json (two folders up
// from tools/cli/ in the repository, and from dist/tools/ once built).

import { readFileSync } from "node:fs";

export function versionLine(): string {
  let version = "unknown";
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { name?: string; version?: string };
    version = `${pkg.version ?? "?"} (${pkg.name ?? "?"})`;
  } catch {
    // a copy of cli.js without its package: say so rather than fail
  }
  return `websock ${version}, Node ${process.version}\n`;
}
