// The package as a user gets it: `npm pack` (which runs `prepare`, the
// build), the tarball installed into an empty project with npm, offline,
// then imported, type-checked against its declarations, and its bin run
// against a real server. Everything lives in one temp folder, removed after.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startWsServer, type WsTestServer } from "./support/ws-server.js";

const REPO = resolve(".");
const NAME = "websock-rfc6455";
const TSC = join(REPO, "node_modules/typescript/bin/tsc");

/** npm with no network, no audit, no lifecycle noise: what it needs is on disk. */
function npm(cwd: string, ...args: string[]): string {
  return execFileSync("npm", [...args, "--offline", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    // Settings of the `npm test` that runs us (npm_config_*) must not leak into these npm runs.
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_"))),
  });
}

/** An empty ES-module project in `dir` that installs `spec`. */
function installInto(dir: string, spec: string): string {
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "newcomer", private: true, type: "module" }));
  npm(dir, "install", spec);
  return join(dir, "node_modules", NAME);
}

function runIn(cwd: string, command: string, args: string[], stdin = ""): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const killer = setTimeout(() => child.kill("SIGKILL"), 15000);
    child.on("error", fail);
    child.on("close", (code) => {
      clearTimeout(killer);
      done({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

describe("the npm package (npm pack, then npm install of the tarball into an empty project)", function () {
  this.timeout(120000);
  let work: string;
  let installed: string;
  let project: string;
  let server: WsTestServer;

  before(async function () {
    work = mkdtempSync(join(tmpdir(), "websock-package-"));
    const packed = npm(REPO, "pack", "--pack-destination", work).trim().split("\n").pop()!;
    const { version } = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string };
    assert.equal(packed, `${NAME}-${version}.tgz`);
    project = join(work, "project");
    installed = installInto(project, join(work, packed));
    server = await startWsServer();
  });
  after(async function () {
    await server?.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it("ships the library, its types, the bin and the Moddable sources, not the test host or the Autobahn tool", function () {
    for (const f of ["dist/node/index.js", "dist/types/hosts/node/index.d.ts", "dist/tools/cli.js", "LICENSE", "README.md", "manifest.json", "hosts/moddable/manifest.json", "src/websock.ts"]) {
      assert.ok(existsSync(join(installed, f)), `${f} is missing from the package`);
    }
    for (const f of ["hosts/xs-test", "test", "tools", "dist/tools/autobahn.js", "dist/tools/demo.js", ".ci"]) {
      assert.ok(!existsSync(join(installed, f)), `${f} should not ship`);
    }
    assert.deepEqual(readdirSync(join(installed, "dist/tools")).sort(), ["cli.js", "cli.js.map"]);
  });

  it("imports by name and connects to a real server", async function () {
    const script = `
      import { websock_open, websock_send_text, websock_recv, websock_close, websock_msg_hdr_init, websock_parse_url, websock_last_error } from "${NAME}";
      const h = await websock_open({ ...websock_parse_url("${server.url("/echo")}"), rx_buffer_size: 256 });
      if (h === null) throw new Error(websock_last_error().message);
      console.log(await websock_send_text(h, "from the tarball"));
      const hdr = websock_msg_hdr_init(), buf = new Uint8Array(256);
      const n = await websock_recv(h, hdr, buf, buf.length, 5000);
      console.log(n, new TextDecoder().decode(buf.subarray(0, Math.max(n, 0))));
      await websock_close(h);`;
    const r = await runIn(project, process.execPath, ["--input-type=module", "-e", script]);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "0\n16 from the tarball\n");
  });

  it("type-checks a user's TypeScript against the shipped declarations (and catches a wrong call)", function () {
    const tsconfig = {
      compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", strict: true, noEmit: true, types: ["node"], typeRoots: [join(REPO, "node_modules/@types")] },
      files: ["main.ts"],
    };
    writeFileSync(join(project, "tsconfig.json"), JSON.stringify(tsconfig));
    writeFileSync(join(project, "main.ts"), `import { websock_open, type websock_handle_t } from "${NAME}";\nconst h: websock_handle_t | null = await websock_open({ hostname: "127.0.0.1", port: 1 });\nexport { h };\n`);
    execFileSync(process.execPath, [TSC, "-p", project], { stdio: "pipe" });
    writeFileSync(join(project, "main.ts"), `import { websock_open } from "${NAME}";\nawait websock_open({ hostname: 42 });\n`);
    let out = "";
    try {
      execFileSync(process.execPath, [TSC, "-p", project], { stdio: "pipe", encoding: "utf8" });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout);
    }
    assert.match(out, /main\.ts.*error TS\d+/);
  });

  it("npx websock --help prints the usage; the bin sends and receives", async function () {
    const help = await runIn(project, "npx", ["--offline", "websock", "--help"]);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: websock /);
    const echo = await runIn(project, "npx", ["--offline", "websock", "-n", "1", server.url("/echo")], "via npx\n");
    assert.equal(echo.code, 0, echo.stderr);
    assert.equal(echo.stdout, "via npx\n");
  });

  // npm clones the repository's HEAD (the last commit, not the work tree),
  // installs its devDependencies from the npm cache and runs `prepare` there.
  it("npm install git+file://<this repository> builds dist/ on install: import and bin work", async function () {
    if (!existsSync(join(REPO, ".git"))) this.skip(); // a checkout without git history (an unpacked tarball)
    const fromGit = installInto(join(work, "from-git"), `git+file://${REPO}`);
    for (const f of ["dist/node/index.js", "dist/types/hosts/node/index.d.ts", "dist/tools/cli.js"]) assert.ok(existsSync(join(fromGit, f)), f);
    const r = await runIn(join(work, "from-git"), process.execPath, ["--input-type=module", "-e", `import { websock_parse_url } from "${NAME}"; console.log(JSON.stringify(websock_parse_url("wss://h/p")));`]);
    assert.equal(r.stdout, '{"hostname":"h","port":443,"uri":"/p","secured":true}\n', r.stderr);
    const help = await runIn(join(work, "from-git"), "npx", ["--offline", "websock", "--help"]);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: websock /);
  });
});
