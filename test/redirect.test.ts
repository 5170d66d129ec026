// Issue 14: following the handshake's redirects (follow_redirects) and HTTP
// Basic authentication (username/password, user:password@ in the URL).
// Redirecting routes are served by a real HTTP server on 127.0.0.1 in front
// of real ws servers; the 401 by a raw TCP server.

import assert from "node:assert/strict";
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import {
  WEBSOCK_ERR,
  websock_close,
  websock_get_info,
  websock_last_error,
  websock_msg_hdr_init,
  websock_open,
  websock_parse_url,
  websock_recv,
  websock_send_text,
  type websock_config_t,
  type websock_handle_t,
} from "websock-rfc6455";
import { makeTestPki, type TestPki } from "./support/certs.js";
import { startProxy, type TestProxy } from "./support/proxy-server.js";
import { startRawServer, type RawServer } from "./support/raw-server.js";
import { startWsServer, type WsTestServer } from "./support/ws-server.js";

/**
 * An HTTP server that answers every upgrade at /STATUS?to=LOCATION with that
 * status and Location (no Location when `to` is absent), and records the
 * requests' headers.
 */
interface Redirector {
  port: number;
  requests: Array<{ path: string; headers: http.IncomingHttpHeaders }>;
  /** "ws://127.0.0.1:port/STATUS?to=..." (or wss://). */
  url(status: number, to?: string): string;
  stop(): Promise<void>;
}

async function startRedirector(server: http.Server | https.Server = http.createServer()): Promise<Redirector> {
  const requests: Redirector["requests"] = [];
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: Socket) => {
    const url = new URL(req.url ?? "/", "http://x");
    requests.push({ path: url.pathname, headers: req.headers });
    const status = Number(url.pathname.slice(1)) || 302;
    const to = url.searchParams.get("to");
    socket.end(`HTTP/1.1 ${status} Redirect\r\n${to !== null ? `Location: ${to}\r\n` : ""}Content-Length: 0\r\nConnection: close\r\n\r\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const scheme = server instanceof https.Server ? "wss" : "ws";
  return {
    port,
    requests,
    url: (status, to) => `${scheme}://127.0.0.1:${port}/${status}${to !== undefined ? `?to=${encodeURIComponent(to)}` : ""}`,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function echoes(h: websock_handle_t, text: string): Promise<void> {
  assert.equal(await websock_send_text(h, text), 0);
  const buf = new Uint8Array(256);
  const n = await websock_recv(h, websock_msg_hdr_init(), buf, buf.length, 5000);
  assert.equal(new TextDecoder().decode(buf.subarray(0, n)), text);
}

async function refused(cfg: websock_config_t): Promise<ReturnType<typeof websock_last_error>> {
  const h = await websock_open(cfg);
  assert.equal(h, null, "websock_open should have failed");
  return websock_last_error();
}

const basic = (credentials: string): string => "Basic " + Buffer.from(credentials, "utf8").toString("base64");

describe("redirects (follow_redirects)", function () {
  this.timeout(20000);
  let ws: WsTestServer;
  let wss: WsTestServer;
  let pki: TestPki;
  let redirector: Redirector;
  let secureRedirector: Redirector;
  let proxy: TestProxy;

  before(async function () {
    pki = await makeTestPki();
    ws = await startWsServer();
    wss = await startWsServer(https.createServer({ key: pki.server.keyPem, cert: pki.server.certPem }));
    redirector = await startRedirector();
    secureRedirector = await startRedirector(https.createServer({ key: pki.server.keyPem, cert: pki.server.certPem }));
    proxy = await startProxy();
  });
  after(async function () {
    await Promise.all([ws.stop(), wss.stop(), redirector.stop(), secureRedirector.stop(), proxy.stop()]);
    await pki.cleanup();
  });

  const open = (url: string, extra: Partial<websock_config_t> = {}): Promise<websock_handle_t | null> =>
    websock_open({ ...websock_parse_url(url)!, ...extra } as websock_config_t);

  it("not followed by default: null, WEBSOCK_ERR_HTTP_STATUS with http_status 302 and the Location in the message", async function () {
    const h = await open(redirector.url(302, ws.url("/echo")));
    assert.equal(h, null);
    const e = websock_last_error();
    assert.equal(e.code, WEBSOCK_ERR.HTTP_STATUS);
    assert.equal(e.http_status, 302);
    assert.match(e.message, new RegExp(`Location: ws://127\\.0\\.0\\.1:${ws.port}/echo`));
  });

  for (const status of [301, 302, 303, 307, 308]) {
    it(`${status} is followed: the handle is the final server's, websock_get_info gives its URL and the count`, async function () {
      const h = await open(redirector.url(status, ws.url("/echo")), { follow_redirects: 1 });
      assert.ok(h, websock_last_error().message);
      await echoes(h, `after ${status}`);
      const info = websock_get_info(h)!;
      assert.equal(info.url, `ws://127.0.0.1:${ws.port}/echo`);
      assert.equal(info.redirects, 1);
      assert.equal(info.http_status, 101);
      await websock_close(h);
    });
  }

  for (const status of [300, 304, 305]) {
    it(`${status} is not a redirect websock follows: WEBSOCK_ERR_HTTP_STATUS`, async function () {
      const e = await refused({ ...websock_parse_url(redirector.url(status, ws.url("/echo")))!, follow_redirects: 5 } as websock_config_t);
      assert.equal(e.code, WEBSOCK_ERR.HTTP_STATUS);
      assert.equal(e.http_status, status);
    });
  }

  it("a chain within the count is followed hop by hop; one longer fails with WEBSOCK_ERR_REDIRECT", async function () {
    const chain = redirector.url(307, redirector.url(301, ws.url("/echo")));
    const h = await open(chain, { follow_redirects: 2 });
    assert.ok(h, websock_last_error().message);
    assert.equal(websock_get_info(h)!.redirects, 2);
    await websock_close(h);
    const before = redirector.requests.length;
    const e = await refused({ ...websock_parse_url(chain)!, follow_redirects: 1 } as websock_config_t);
    assert.equal(e.code, WEBSOCK_ERR.REDIRECT);
    assert.equal(e.http_status, 301);
    assert.match(e.message, /after 1 redirects \(follow_redirects is 1\)/);
    // Exactly the hops allowed, no more.
    assert.equal(redirector.requests.length - before, 2);
  });

  it("a redirect loop ends at the count", async function () {
    const e = await refused({ ...websock_parse_url(redirector.url(302, "/302?to=/302"))!, follow_redirects: 5 } as websock_config_t);
    assert.equal(e.code, WEBSOCK_ERR.REDIRECT);
  });

  it("a Location relative to the current URL (absolute path, relative path, with dot segments) is resolved against it", async function () {
    // The redirector answers any path; its /302 route with a relative Location goes back to itself, then on.
    const target = ws.url("/echo");
    for (const location of [`/301?to=${encodeURIComponent(target)}`, `301?to=${encodeURIComponent(target)}`, `./x/../301?to=${encodeURIComponent(target)}`]) {
      const h = await open(redirector.url(302, location), { follow_redirects: 2 });
      assert.ok(h, `${location}: ${websock_last_error().message}`);
      assert.equal(websock_get_info(h)!.url, `ws://127.0.0.1:${ws.port}/echo`);
      await websock_close(h);
      assert.equal(redirector.requests.at(-1)!.path, "/301");
    }
  });

  it("http:// and https:// in Location are taken as ws:// and wss://", async function () {
    const h = await open(redirector.url(302, `http://127.0.0.1:${ws.port}/echo`), { follow_redirects: 1 });
    assert.ok(h, websock_last_error().message);
    assert.equal(websock_get_info(h)!.url, `ws://127.0.0.1:${ws.port}/echo`);
    await websock_close(h);
  });

  it("ws:// to wss:// is followed, with TLS verified as configured", async function () {
    const h = await open(redirector.url(301, `wss://localhost:${wss.port}/echo`), { follow_redirects: 1, ssl_config: { ca: pki.ca.certPem } });
    assert.ok(h, websock_last_error().message);
    await echoes(h, "upgraded to TLS");
    const info = websock_get_info(h)!;
    assert.equal(info.url, `wss://localhost:${wss.port}/echo`);
    assert.ok(info.tls);
    await websock_close(h);
  });

  it("wss:// to ws:// is refused: WEBSOCK_ERR_REDIRECT, and nothing is sent in the clear", async function () {
    const before = ws.requests.length;
    const e = await refused({
      ...websock_parse_url(secureRedirector.url(302, ws.url("/echo")))!,
      ssl_config: { ca: pki.ca.certPem },
      follow_redirects: 3,
    } as websock_config_t);
    assert.equal(e.code, WEBSOCK_ERR.REDIRECT);
    assert.equal(e.http_status, 302);
    assert.match(e.message, /wss:\/\/ to ws:\/\//);
    assert.equal(ws.requests.length, before);
  });

  it("no Location, a Location that is not a URL websock can follow, or one with credentials: WEBSOCK_ERR_REDIRECT", async function () {
    for (const [url, pattern] of [
      [redirector.url(302), /without a Location/],
      [redirector.url(302, "ftp://127.0.0.1/x"), /not a ws:\/\/, wss:\/\/, http:\/\/ or https:\/\/ URL/],
      [redirector.url(302, `ws://bob:pw@127.0.0.1:${ws.port}/echo`), /carries credentials/],
    ] as const) {
      const e = await refused({ ...websock_parse_url(url)!, follow_redirects: 3 } as websock_config_t);
      assert.equal(e.code, WEBSOCK_ERR.REDIRECT, e.message);
      assert.match(e.message, pattern);
    }
  });

  it("Authorization goes with a redirect on the same host and port, and is dropped when the host changes", async function () {
    // Same host and port: the redirector sends itself on to its own /301, which goes to the ws server (another port).
    const h = await open(redirector.url(302, `/301?to=${encodeURIComponent(`ws://localhost:${ws.port}/echo`)}`), {
      follow_redirects: 3,
      username: "alice",
      password: "s3cret",
      hndshk_hdrs: ["Cookie: session=1", "X-Kept: yes"],
    });
    assert.ok(h, websock_last_error().message);
    await websock_close(h);
    const [first, second] = redirector.requests.slice(-2);
    assert.equal(first.headers.authorization, basic("alice:s3cret"));
    assert.equal(second.headers.authorization, basic("alice:s3cret"));
    assert.equal(second.headers.cookie, "session=1");
    const final = ws.requests.at(-1)!;
    assert.equal(final.headers.authorization, undefined);
    assert.equal(final.headers.cookie, undefined);
    assert.equal(final.headers["x-kept"], "yes");
    assert.equal(final.headers.host, `localhost:${ws.port}`);
  });

  it("an Authorization of hndshk_hdrs is dropped the same way", async function () {
    const h = await open(redirector.url(302, `ws://localhost:${ws.port}/echo`), { follow_redirects: 1, hndshk_hdrs: ["Authorization: Bearer tok"] });
    assert.ok(h, websock_last_error().message);
    await websock_close(h);
    assert.equal(redirector.requests.at(-1)!.headers.authorization, "Bearer tok");
    assert.equal(ws.requests.at(-1)!.headers.authorization, undefined);
  });

  it("through a proxy: each hop is its own CONNECT", async function () {
    const h = await open(redirector.url(302, ws.url("/echo")), { follow_redirects: 1, proxy: proxy.url() });
    assert.ok(h, websock_last_error().message);
    await echoes(h, "redirected through the proxy");
    await websock_close(h);
    assert.deepEqual(proxy.connects.slice(-2), [`127.0.0.1:${redirector.port}`, `127.0.0.1:${ws.port}`]);
  });

  it("follow_redirects is refused unless an integer from 0 to 20", async function () {
    for (const value of [-1, 1.5, 21, "3"]) {
      const e = await refused({ hostname: "127.0.0.1", port: ws.port, follow_redirects: value as number });
      assert.equal(e.code, WEBSOCK_ERR.INVALID_ARG);
      assert.match(e.message, /follow_redirects must be an integer from 0 to 20/);
    }
  });
});

describe("HTTP Basic authentication (username, password)", function () {
  this.timeout(20000);
  let ws: WsTestServer;
  let challenger: RawServer;

  before(async function () {
    ws = await startWsServer();
    challenger = await startRawServer((peer) => {
      peer.socket.end('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="devices", charset="UTF-8"\r\nContent-Length: 0\r\n\r\n');
    });
  });
  after(async function () {
    await Promise.all([ws.stop(), challenger.stop()]);
  });

  it("username/password go out as Authorization: Basic (RFC 7617), the pair as UTF-8", async function () {
    const h = await websock_open({ hostname: "127.0.0.1", port: ws.port, uri: "/echo", username: "zoë", password: "p@ss wörd" });
    assert.ok(h, websock_last_error().message);
    await websock_close(h);
    assert.equal(ws.requests.at(-1)!.headers.authorization, basic("zoë:p@ss wörd"));
  });

  it("user:password@ in the URL: websock_parse_url gives them (percent-decoded) and they go out the same way", async function () {
    const parsed = websock_parse_url(`ws://alice:s%3Ac%40ret@127.0.0.1:${ws.port}/echo`)!;
    assert.deepEqual(parsed, { hostname: "127.0.0.1", port: ws.port, uri: "/echo", secured: false, username: "alice", password: "s:c@ret" });
    const h = await websock_open(parsed as websock_config_t);
    assert.ok(h, websock_last_error().message);
    await websock_close(h);
    assert.equal(ws.requests.at(-1)!.headers.authorization, basic("alice:s:c@ret"));
  });

  it("a 401: null, http_status 401, the WWW-Authenticate value in the error; the password in no message", async function () {
    const e = await refused({ hostname: "127.0.0.1", port: challenger.port, username: "alice", password: "hunter2" });
    assert.equal(e.code, WEBSOCK_ERR.HTTP_STATUS);
    assert.equal(e.http_status, 401);
    assert.equal(e.www_authenticate, 'Basic realm="devices", charset="UTF-8"');
    assert.match(e.message, /WWW-Authenticate: Basic realm="devices"/);
    assert.doesNotMatch(JSON.stringify(e), /hunter2|aHVudGVyMg|YWxpY2U6aHVudGVyMg/);
    assert.match(challenger.peers.at(-1)!.request.text, new RegExp(`Authorization: ${basic("alice:hunter2")}\r\n`));
  });

  it("refusals name the field and never quote the credentials", async function () {
    for (const [extra, pattern] of [
      [{ username: "al:ice", password: "x-secret" }, /username contains a colon/],
      [{ username: "alice", password: "x-secret\r\nX: y" }, /password contains a control character/],
      [{ password: "x-secret" }, /password is set without username/],
      [{ username: 7, password: "x-secret" }, /username must be a string/],
      [{ username: "alice", password: "x-secret", hndshk_hdrs: ["Authorization: Bearer x-secret"] }, /give only one/],
    ] as const) {
      const e = await refused({ hostname: "127.0.0.1", port: ws.port, ...(extra as object) } as websock_config_t);
      assert.equal(e.code, WEBSOCK_ERR.INVALID_ARG);
      assert.match(e.message, pattern);
      assert.doesNotMatch(e.message, /x-secret|al:ice/);
    }
  });
});
