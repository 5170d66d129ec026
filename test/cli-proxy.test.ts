// Issue 14 in the command line: -x/--proxy and the environment's proxies as
// curl reads them (http_proxy, HTTPS_PROXY, ALL_PROXY, NO_PROXY, --noproxy),
// -L/--location and --max-redirs, --auth through the library's
// username/password. The CLI is spawned for real against a real proxy
// (npm's `proxy`), ws servers and a redirecting HTTP server on 127.0.0.1.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { bypassesProxy, chooseProxy } from "../tools/cli/proxy-env.js";
import { makeTestPki, type TestPki } from "./support/certs.js";
import { startProxy, type TestProxy } from "./support/proxy-server.js";
import { startWsServer, type WsTestServer } from "./support/ws-server.js";

const CLI = "dist/tools/cli.js";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment without any proxy variable of the machine's, plus `env`. */
function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/_proxy$/i.test(k)) out[k] = v;
  return { ...out, ...env };
}

function run(args: string[], env: Record<string, string> = {}, stdin = "", killAfter = 8000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["pipe", "pipe", "pipe"], env: cleanEnv(env) });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const killer = setTimeout(() => child.kill("SIGKILL"), killAfter);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on("error", () => {});
    child.stdin.end(stdin);
  });
}

/** Answers every upgrade with 302 to the `to` query parameter (or 401 on /private), and counts requests. */
async function startRedirector(): Promise<{ port: number; hits: string[]; stop(): Promise<void> }> {
  const server = http.createServer();
  const hits: string[] = [];
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: Socket) => {
    const url = new URL(req.url ?? "/", "http://x");
    hits.push(`${url.pathname} ${req.headers.authorization ?? "-"}`);
    if (url.pathname === "/private") socket.end('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="cli"\r\nContent-Length: 0\r\n\r\n');
    else socket.end(`HTTP/1.1 302 Found\r\nLocation: ${url.searchParams.get("to") ?? ""}\r\nContent-Length: 0\r\n\r\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    hits,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("websock command line: proxies, redirects, --auth", function () {
  this.timeout(20000);
  let ws: WsTestServer;
  let proxy: TestProxy;
  let guarded: TestProxy;
  let redirector: Awaited<ReturnType<typeof startRedirector>>;
  let pki: TestPki;
  let wss: WsTestServer;

  before(function () {
    this.timeout(30000);
    execFileSync(process.execPath, ["tools/build.mjs", "--no-types"], { stdio: "pipe" });
  });
  before(async function () {
    pki = await makeTestPki();
    [ws, proxy, guarded, redirector, wss] = await Promise.all([startWsServer(), startProxy(), startProxy("carol:pw"), startRedirector(),
      startWsServer(https.createServer({ key: pki.server.keyPem, cert: pki.server.certPem }))]);
  });
  after(async function () {
    await Promise.all([ws.stop(), proxy.stop(), guarded.stop(), redirector.stop(), wss.stop()]);
    await pki.cleanup();
  });

  it("HTTPS_PROXY for wss://: TLS end to end through the tunnel, verified with --cacert", async function () {
    const r = await run(["-v", "--cacert", pki.ca.certPath, `wss://localhost:${wss.port}/echo`], { HTTPS_PROXY: proxy.url() }, "secret\n");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "secret\n");
    assert.match(r.stderr, /through the proxy .*TLSv1\.[23]/);
    assert.equal(proxy.connects.at(-1), `localhost:${wss.port}`);
  });

  it("-x/--proxy: the messages go through the proxy's tunnel; -v says so, without the proxy's credentials", async function () {
    const r = await run(["-v", "-x", guarded.url("carol:pw"), ws.url("/echo")], {}, "hello\n");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "hello\n");
    assert.match(r.stderr, new RegExp(`\\* connected to ws://127\\.0\\.0\\.1:${ws.port}/echo through the proxy http://127\\.0\\.0\\.1:${guarded.port}: HTTP 101`));
    assert.doesNotMatch(r.stderr, /carol|pw@/);
    assert.equal(guarded.connects.at(-1), `127.0.0.1:${ws.port}`);
  });

  it("a 407: exit 3, one line with the status", async function () {
    const r = await run(["-n", "0", "--proxy", guarded.url(), ws.url("/echo")]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^websock: the HTTP proxy did not open a tunnel: the proxy 127\.0\.0\.1:\d+ answered 407 to CONNECT/);
  });

  it("a proxy that is not listening: exit 3, saying it is the proxy", async function () {
    const closed = await startProxy();
    const port = closed.port;
    await closed.stop();
    const r = await run(["-n", "0", "--proxy", `http://127.0.0.1:${port}`, ws.url("/echo")]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`^websock: cannot connect to the proxy 127\\.0\\.0\\.1:${port}: ECONNREFUSED`));
  });

  it("http_proxy for ws://, as curl: lower case only (HTTP_PROXY is not read); ALL_PROXY as the fallback", async function () {
    const before = proxy.connects.length;
    let r = await run(["-n", "0", ws.url("/echo")], { http_proxy: proxy.url() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(proxy.connects.length, before + 1);
    r = await run(["-n", "0", ws.url("/echo")], { HTTP_PROXY: "http://127.0.0.1:1" });
    assert.equal(r.code, 0, r.stderr);
    r = await run(["-n", "0", ws.url("/echo")], { ALL_PROXY: proxy.url() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(proxy.connects.length, before + 2);
  });

  it("HTTPS_PROXY is for wss:// only; NO_PROXY and --noproxy send a host direct; --proxy \"\" turns the environment's off", async function () {
    const before = proxy.connects.length;
    // A dead proxy in HTTPS_PROXY: a ws:// URL does not use it.
    let r = await run(["-n", "0", ws.url("/echo")], { HTTPS_PROXY: "http://127.0.0.1:1" });
    assert.equal(r.code, 0, r.stderr);
    r = await run(["-n", "0", ws.url("/echo")], { http_proxy: "http://127.0.0.1:1", NO_PROXY: "localhost,127.0.0.1" });
    assert.equal(r.code, 0, r.stderr);
    r = await run(["-n", "0", "--noproxy", "*", ws.url("/echo")], { http_proxy: "http://127.0.0.1:1" });
    assert.equal(r.code, 0, r.stderr);
    r = await run(["-n", "0", "--proxy", "", ws.url("/echo")], { http_proxy: "http://127.0.0.1:1" });
    assert.equal(r.code, 0, r.stderr);
    // And the dead one is used when nothing says otherwise.
    r = await run(["-n", "0", ws.url("/echo")], { http_proxy: "http://127.0.0.1:1" });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(proxy.connects.length, before);
  });

  it("a bad proxy URL: exit 2, in the option's words", async function () {
    const r = await run(["-n", "0", "--proxy", "https://127.0.0.1:3128", ws.url("/echo")]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^websock: --proxy \(or the \*_proxy environment variable\): only http:\/\/ proxies/);
  });

  it("-L follows the redirect; without it, exit 5 with the 302", async function () {
    const url = `ws://127.0.0.1:${redirector.port}/go?to=${encodeURIComponent(ws.url("/echo"))}`;
    let r = await run(["-v", "-L", url], {}, "moved\n");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "moved\n");
    assert.match(r.stderr, new RegExp(`\\* connected to ws://127\\.0\\.0\\.1:${ws.port}/echo after 1 redirect: HTTP 101`));
    r = await run(["-n", "0", url]);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /HTTP 302/);
  });

  it("--max-redirs bounds -L: exit 5 with WEBSOCK_ERR_REDIRECT's words; --max-redirs is checked", async function () {
    const loop = `ws://127.0.0.1:${redirector.port}/loop?to=${encodeURIComponent("/loop?to=/loop")}`;
    let r = await run(["-n", "0", "-L", "--max-redirs", "2", loop]);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /^websock: handshake failed: the redirect could not be followed: .*after 2 redirects/);
    r = await run(["--max-redirs", "21", ws.url("/echo")]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--max-redirs must be a whole number from 0 to 20/);
  });

  it("--auth goes to the first host and, with -L, not on to another one", async function () {
    const url = `ws://127.0.0.1:${redirector.port}/go?to=${encodeURIComponent(`ws://localhost:${ws.port}/echo`)}`;
    const r = await run(["-n", "0", "-L", "--auth", "dave:secret", url]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(redirector.hits.at(-1), `/go Basic ${Buffer.from("dave:secret").toString("base64")}`);
    assert.equal(ws.requests.at(-1)!.headers.authorization, undefined);
  });

  it("a 401 through a proxy: exit 5 with the WWW-Authenticate challenge under the error line", async function () {
    const r = await run(["-n", "0", "-x", proxy.url(), `ws://127.0.0.1:${redirector.port}/private`]);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /^websock: handshake failed: the server answered HTTP 401 /);
    assert.match(r.stderr, /^ {2}WWW-Authenticate: Basic realm="cli"$/m);
  });

  it("--reconnect with -x and -L: after a drop the CLI tunnels again and follows the redirect again from the URL given", async function () {
    const { WebSocketServer } = await import("ws");
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((r) => server.once("listening", () => r()));
    const port = (server.address() as AddressInfo).port;
    let n = 0;
    server.on("connection", (c) => {
      c.on("error", () => {});
      n++;
      if (n === 1) {
        c.send("one");
        setTimeout(() => c.terminate(), 50);
      } else {
        c.send("two");
        c.close(1000);
      }
    });
    const connects = proxy.connects.length;
    const hits = redirector.hits.length;
    try {
      // The first attempt waits a random 0-5 s (RFC 6455 §7.2.3): the kill timer leaves room for it.
      const r = await run(["--reconnect", "-x", proxy.url(), "-L", "-q", "-1", `ws://127.0.0.1:${redirector.port}/go?to=ws://127.0.0.1:${port}/`], {}, "", 15000);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "one\ntwo\n");
      assert.match(r.stderr, /^websock: the connection was re-established/m);
      const hop = [`127.0.0.1:${redirector.port}`, `127.0.0.1:${port}`];
      assert.deepEqual(proxy.connects.slice(connects), [...hop, ...hop]);
      assert.deepEqual(redirector.hits.slice(hits), ["/go -", "/go -"]);
    } finally {
      for (const c of server.clients) c.terminate();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  describe("choosing the proxy (tools/cli/proxy-env.ts)", function () {
    it("the precedence of curl", function () {
      const env = { http_proxy: "http://a", HTTP_PROXY: "http://A", https_proxy: "http://b", HTTPS_PROXY: "http://B", all_proxy: "http://c" };
      assert.equal(chooseProxy(undefined, undefined, "h", false, env), "http://a");
      assert.equal(chooseProxy(undefined, undefined, "h", true, env), "http://b");
      assert.equal(chooseProxy(undefined, undefined, "h", true, { HTTPS_PROXY: "http://B" }), "http://B");
      assert.equal(chooseProxy(undefined, undefined, "h", false, { HTTP_PROXY: "http://A" }), undefined);
      assert.equal(chooseProxy(undefined, undefined, "h", false, { ALL_PROXY: "http://C" }), "http://C");
      assert.equal(chooseProxy("http://x", undefined, "h", false, env), "http://x");
      assert.equal(chooseProxy("", undefined, "h", false, env), undefined);
      assert.equal(chooseProxy("http://x", undefined, "h", false, { NO_PROXY: "h" }), undefined);
      assert.equal(chooseProxy("http://x", "other", "h", false, { NO_PROXY: "h" }), "http://x");
    });

    it("no_proxy entries: names and their subdomains, a leading dot, ports ignored, IPs as written, *", function () {
      assert.ok(bypassesProxy("example.com", "example.com"));
      assert.ok(bypassesProxy("api.example.com", "example.com"));
      assert.ok(bypassesProxy("api.example.com", ".example.com"));
      assert.ok(!bypassesProxy("badexample.com", "example.com"));
      assert.ok(bypassesProxy("Example.COM", " foo , example.com:8080"));
      assert.ok(bypassesProxy("::1", "[::1]:443"));
      assert.ok(bypassesProxy("::1", "::1"));
      assert.ok(bypassesProxy("10.0.0.2", "10.0.0.2"));
      assert.ok(!bypassesProxy("10.0.0.20", "10.0.0.2"));
      assert.ok(bypassesProxy("anything", "*"));
      assert.ok(!bypassesProxy("anything", ""));
    });
  });
});
