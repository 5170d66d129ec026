// Reconnect where the first connection went through more than a TCP connect:
// an HTTP proxy (the real `proxy` from npm, and a CONNECT proxy crafted here
// where a proxy must answer 502, 503, hang up or babble), redirecting routes,
// and TLS (a Node https + ws server with a PKI made for this run). The ws
// servers behind them are stopped and restarted on their ports. Delays are
// tiny; nothing asserts how long anything took.

import { strict as assert } from "node:assert";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import type { AddressInfo } from "node:net";
import {
  WEBSOCK_ERR,
  websock_close,
  websock_get_info,
  websock_last_error,
  websock_msg_hdr_init,
  websock_open,
  websock_recv,
  websock_send_text,
  type websock_config_t,
  type websock_handle_t,
} from "websock-rfc6455";
import { makeTestPki, type TestCert, type TestPki } from "./support/certs.js";
import { startProxy, type TestProxy } from "./support/proxy-server.js";
import { startRawServer } from "./support/raw-server.js";
import { startWsServer, type WsTestServer } from "./support/ws-server.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const FAST = { first_delay: 0, min_delay: 1, max_delay: 5 };

async function until(what: string, ok: () => boolean, limit = 10000): Promise<void> {
  for (let waited = 0; !ok(); waited += 5) {
    if (waited > limit) throw new Error(`never: ${what}`);
    await sleep(5);
  }
}

async function open(cfg: websock_config_t): Promise<websock_handle_t> {
  const h = await websock_open({ close_timeout: 500, ...cfg });
  assert.ok(h, websock_last_error().message);
  return h;
}

/** The next piece as text; codes come back as { n }. */
async function recvText(h: websock_handle_t, timeout = 10000): Promise<{ n: number; text: string }> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(256);
  for (;;) {
    const n = await websock_recv(h, hdr, buf, buf.length, timeout);
    if (n === 0 && hdr.opcode < 0) continue;
    return { n, text: n > 0 ? Buffer.from(buf.subarray(0, n)).toString() : "" };
  }
}

async function echoes(h: websock_handle_t, text: string): Promise<void> {
  assert.equal(await websock_send_text(h, text), 0, websock_last_error(h).message);
  assert.equal((await recvText(h)).text, text);
}

/** websock_close(h) settles before a 0 ms timer set at the same moment fires: within one timer turn. */
async function closesWithinOneTurn(h: websock_handle_t): Promise<void> {
  const closed = websock_close(h).then(() => "closed");
  const turn = new Promise((r) => setTimeout(() => r("a timer turn passed"), 0));
  assert.equal(await Promise.race([closed, turn]), "closed");
  assert.equal(websock_get_info(h), null);
}

/**
 * A CONNECT proxy made for these tests: the n-th CONNECT (from 1) is
 * answered as `answer(n)` says: "tunnel" splices it to its target as a
 * proxy does, "hang-up" closes before answering, "silent" never answers,
 * anything else is written as the answer and the connection ended.
 */
async function startCraftedProxy(answer: (n: number) => string): Promise<{ port: number; url: string; connects: string[]; stop(): Promise<void> }> {
  const connects: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      const target = /^CONNECT (\S+) HTTP\/1\.1\r\n/.exec(head.toString("latin1"))?.[1] ?? "";
      connects.push(target);
      const how = answer(connects.length);
      if (how === "silent") return;
      if (how === "hang-up") {
        socket.end();
        return;
      }
      if (how !== "tunnel") {
        socket.end(how);
        return;
      }
      const colon = target.lastIndexOf(":");
      const upstream = net.connect(Number(target.slice(colon + 1)), target.slice(0, colon));
      sockets.add(upstream);
      upstream.on("close", () => sockets.delete(upstream));
      upstream.on("error", () => socket.destroy());
      socket.on("close", () => upstream.destroy());
      upstream.once("connect", () => {
        socket.write("HTTP/1.1 200 Connection established\r\n\r\n");
        const rest = head.subarray(end + 4);
        if (rest.length > 0) upstream.write(rest);
        socket.pipe(upstream);
        upstream.pipe(socket);
      });
    };
    socket.on("data", onData);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    connects,
    stop: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** An HTTP server whose every upgrade is answered 302 with Location `to()`; records the paths asked for. */
async function startRedirector(to: () => string): Promise<{ port: number; paths: string[]; url(path: string): string; stop(): Promise<void> }> {
  const paths: string[] = [];
  const server = http.createServer();
  const sockets = new Set<net.Socket>();
  server.on("connection", (s: net.Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: net.Socket) => {
    paths.push(req.url ?? "");
    socket.end(`HTTP/1.1 302 Found\r\nLocation: ${to()}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    paths,
    url: (path) => `ws://127.0.0.1:${port}${path}`,
    stop: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** The config of a ws:// URL on 127.0.0.1. */
function at(port: number, uri = "/echo"): websock_config_t {
  return { hostname: "127.0.0.1", port, uri };
}

describe("reconnect through an HTTP proxy", function () {
  this.timeout(30000);

  it("the ws server behind the real proxy is stopped and restarted: every attempt is a CONNECT of its own, the proxy's 500 for the refused server is retried", async () => {
    const proxy = await startProxy();
    let ws = await startWsServer();
    const port = ws.port;
    try {
      let opens = 0;
      const h = await open({
        ...at(port),
        proxy: proxy.url(),
        reconnect: FAST,
        on_open: (handle) => {
          opens++;
          void websock_send_text(handle, `sub ${opens}`);
        },
      });
      assert.equal((await recvText(h)).text, "sub 1");
      assert.deepEqual(proxy.connects, [`127.0.0.1:${port}`]);
      await ws.stop();
      await until("attempts through the proxy meet the refused server", () => (websock_get_info(h)!.attempts ?? 0) >= 2);
      // `proxy` answers 500 when it cannot reach the target: a 5xx of the proxy's, retried.
      const failure = websock_get_info(h)!.last_failure!;
      assert.equal(failure.code, WEBSOCK_ERR.PROXY, failure.message);
      assert.equal(failure.http_status, 500);
      const held = websock_send_text(h, "held while down");
      ws = await startWsServer(undefined, port);
      assert.equal((await recvText(h)).n, WEBSOCK_ERR.RECONNECTED, websock_last_error(h).message);
      assert.equal((await recvText(h)).text, "sub 2", "on_open before the held send, on the new connection");
      assert.equal(await held, 0);
      assert.equal((await recvText(h)).text, "held while down");
      const info = websock_get_info(h)!;
      assert.equal(info.reconnects, 1);
      // One CONNECT per attempt, each to the server (the tunnel is never reused), plus the first.
      assert.equal(proxy.connects.length, info.attempts! + 1);
      assert.ok(proxy.connects.every((c) => c === `127.0.0.1:${port}`));
      // The server saw the WebSocket request with its own Host, never the proxy's credentials or address.
      assert.equal(ws.requests.at(-1)!.headers.host, `127.0.0.1:${port}`);
      await echoes(h, "through the new tunnel");
      await websock_close(h);
    } finally {
      await Promise.all([ws.stop(), proxy.stop()]);
    }
  });

  it("the proxy itself is stopped and restarted on its port: its refused connect is retried, and named as the proxy's", async () => {
    let proxy = await startProxy();
    const proxyPort = proxy.port;
    const ws = await startWsServer();
    try {
      const h = await open({ ...at(ws.port), proxy: proxy.url(), reconnect: FAST });
      await echoes(h, "before");
      await proxy.stop();
      await until("attempts meet the refused proxy", () => (websock_get_info(h)!.attempts ?? 0) >= 2);
      const failure = websock_get_info(h)!.last_failure!;
      assert.equal(failure.code, WEBSOCK_ERR.CONNECT);
      assert.match(failure.message, new RegExp(`the proxy 127\\.0\\.0\\.1:${proxyPort}`));
      proxy = await startProxy(undefined, proxyPort);
      assert.equal((await recvText(h)).n, WEBSOCK_ERR.RECONNECTED, websock_last_error(h).message);
      await echoes(h, "after");
      assert.deepEqual(proxy.connects, [`127.0.0.1:${ws.port}`]);
      await websock_close(h);
    } finally {
      await Promise.all([ws.stop(), proxy.stop()]);
    }
  });

  it("a 407 on an attempt ends the reconnecting: a 4xx of the proxy's is never retried", async () => {
    const proxy = await startProxy();
    const ws = await startWsServer();
    try {
      const h = await open({ ...at(ws.port), proxy: proxy.url(), reconnect: FAST });
      await echoes(h, "before");
      // The proxy now wants credentials the handle does not have; the server drops the connection.
      proxy.requireCredentials("alice:s3cret");
      await ws.stop();
      const end = await recvText(h);
      assert.equal(end.n, WEBSOCK_ERR.PROXY, websock_last_error(h).message);
      assert.equal(websock_last_error(h).http_status, 407);
      const info = websock_get_info(h)!;
      assert.equal(info.attempts, 1);
      assert.equal(info.state, "CLOSED");
      assert.equal(info.last_failure?.http_status, 407);
      assert.match(info.last_failure!.message, /Proxy-Authenticate: Basic/);
      assert.equal(proxy.connects.length, 2);
      await websock_close(h);
    } finally {
      await Promise.all([ws.stop(), proxy.stop()]);
    }
  });

  it("a proxy's 502 and 503 and a hang-up before it answers are retried; an answer that is not HTTP ends it", async () => {
    const answers: Record<number, string> = {
      2: "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n",
      3: "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
      4: "hang-up",
      6: "SSH-2.0-OpenSSH_9.6\r\n\r\n",
    };
    const proxy = await startCraftedProxy((n) => answers[n] ?? "tunnel");
    const ws = await startWsServer();
    try {
      const h = await open({ ...at(ws.port), proxy: proxy.url, reconnect: FAST });
      await echoes(h, "one");
      ws.dropClients();
      assert.equal((await recvText(h)).n, WEBSOCK_ERR.RECONNECTED, websock_last_error(h).message);
      assert.equal(websock_get_info(h)!.attempts, 4, "the 502, the 503, the hang-up, the tunnel that opened");
      await echoes(h, "two");
      ws.dropClients();
      const end = await recvText(h);
      assert.equal(end.n, WEBSOCK_ERR.PROXY, websock_last_error(h).message);
      assert.match(websock_last_error(h).message, /did not answer CONNECT with an HTTP status line/);
      assert.equal(websock_get_info(h)!.attempts, 5);
      assert.equal(proxy.connects.length, 6);
      await websock_close(h);
    } finally {
      await Promise.all([ws.stop(), proxy.stop()]);
    }
  });

  it("websock_close during the backoff wait through a proxy returns within one timer turn", async () => {
    const proxy = await startProxy();
    const ws = await startWsServer();
    try {
      const h = await open({ ...at(ws.port), proxy: proxy.url(), reconnect: { first_delay: 60000, min_delay: 60000, max_delay: 60000 } });
      ws.dropClients();
      await until("the wait", () => websock_get_info(h)!.retry_delay !== undefined);
      assert.equal(websock_get_info(h)!.state, "CONNECTING");
      await closesWithinOneTurn(h);
      assert.equal(proxy.connects.length, 1, "no attempt was made");
    } finally {
      await Promise.all([ws.stop(), proxy.stop()]);
    }
  });

  it("websock_close during an attempt through a proxy returns within one timer turn: the proxy not answering CONNECT yet", async () => {
    const proxy = await startCraftedProxy((n) => (n === 1 ? "tunnel" : "silent"));
    const ws = await startWsServer();
    try {
      const h = await open({ ...at(ws.port), proxy: proxy.url, reconnect: FAST });
      ws.dropClients();
      await until("the attempt's CONNECT arrived", () => proxy.connects.length === 2);
      const info = websock_get_info(h)!;
      assert.equal(info.state, "CONNECTING");
      assert.equal(info.retry_delay, undefined, "an attempt is under way, not a wait");
      await closesWithinOneTurn(h);
    } finally {
      await Promise.all([ws.stop(), proxy.stop()]);
    }
  });

  it("websock_close during an attempt through a proxy returns within one timer turn: the tunnel up, the server not answering the handshake", async () => {
    const proxy = await startProxy();
    let n = 0;
    // The first connection opens and is dropped; the attempt after it reaches a server that never answers.
    const raw = await startRawServer((p) => {
      n++;
      if (n === 1) {
        p.socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${p.request.accept}\r\n\r\n`);
        setTimeout(() => p.socket.destroy(), 10);
      }
    });
    try {
      const h = await open({ ...at(raw.port), proxy: proxy.url(), reconnect: FAST });
      await until("the attempt's request reached the server", () => raw.peers.length === 2);
      assert.equal(websock_get_info(h)!.state, "CONNECTING");
      await closesWithinOneTurn(h);
      await raw.peers[1].ended;
    } finally {
      await Promise.all([raw.stop(), proxy.stop()]);
    }
  });
});

describe("reconnect with redirects", function () {
  this.timeout(30000);

  it("each attempt starts again from the configured URL and follows its redirect again", async () => {
    let ws = await startWsServer();
    const port = ws.port;
    const redirector = await startRedirector(() => `ws://127.0.0.1:${port}/echo`);
    try {
      const h = await open({ ...at(redirector.port, "/entry"), follow_redirects: 2, reconnect: FAST });
      assert.equal(websock_get_info(h)!.url, `ws://127.0.0.1:${port}/echo`);
      await echoes(h, "first");
      await ws.stop();
      await until("attempts meet the refused server", () => (websock_get_info(h)!.attempts ?? 0) >= 2);
      ws = await startWsServer(undefined, port);
      assert.equal((await recvText(h)).n, WEBSOCK_ERR.RECONNECTED, websock_last_error(h).message);
      await echoes(h, "second");
      const info = websock_get_info(h)!;
      assert.equal(info.url, `ws://127.0.0.1:${port}/echo`);
      assert.equal(info.redirects, 1);
      // The first open and every attempt asked the configured URL first; a hop is not an attempt.
      assert.equal(redirector.paths.length, info.attempts! + 1);
      assert.ok(redirector.paths.every((p) => p === "/entry"));
      await websock_close(h);
    } finally {
      await Promise.all([ws.stop(), redirector.stop()]);
    }
  });

  it("a redirect an attempt can no longer follow ends the reconnecting with WEBSOCK_ERR_REDIRECT", async () => {
    const ws = await startWsServer();
    let target = `ws://127.0.0.1:${ws.port}/echo`;
    const redirector = await startRedirector(() => target);
    try {
      const h = await open({ ...at(redirector.port, "/entry"), follow_redirects: 2, reconnect: FAST });
      await echoes(h, "first");
      // The redirector now sends the client round in a circle: more than follow_redirects hops.
      target = `ws://127.0.0.1:${redirector.port}/again`;
      ws.dropClients();
      const end = await recvText(h);
      assert.equal(end.n, WEBSOCK_ERR.REDIRECT, websock_last_error(h).message);
      assert.equal(websock_last_error(h).http_status, 302);
      const info = websock_get_info(h)!;
      assert.equal(info.attempts, 1);
      assert.equal(info.last_failure?.code, WEBSOCK_ERR.REDIRECT);
      assert.deepEqual(redirector.paths, ["/entry", "/entry", "/again", "/again"]);
      await websock_close(h);
    } finally {
      await Promise.all([ws.stop(), redirector.stop()]);
    }
  });

  it("through a proxy with redirects: every hop of every attempt is a CONNECT of its own", async () => {
    const proxy = await startProxy();
    let ws = await startWsServer();
    const port = ws.port;
    const redirector = await startRedirector(() => `ws://127.0.0.1:${port}/echo`);
    try {
      const h = await open({ ...at(redirector.port, "/entry"), follow_redirects: 1, proxy: proxy.url(), reconnect: FAST });
      await echoes(h, "first");
      await ws.stop();
      await until("an attempt failed", () => (websock_get_info(h)!.attempts ?? 0) >= 1 && websock_get_info(h)!.last_failure?.code === WEBSOCK_ERR.PROXY);
      ws = await startWsServer(undefined, port);
      assert.equal((await recvText(h)).n, WEBSOCK_ERR.RECONNECTED, websock_last_error(h).message);
      await echoes(h, "second");
      const attempts = websock_get_info(h)!.attempts!;
      // Each attempt: the redirector, then the server (refused by it while down: a 500 from the proxy).
      const expected: string[] = [];
      for (let i = 0; i <= attempts; i++) expected.push(`127.0.0.1:${redirector.port}`, `127.0.0.1:${port}`);
      assert.deepEqual(proxy.connects, expected);
      await websock_close(h);
    } finally {
      await Promise.all([ws.stop(), redirector.stop(), proxy.stop()]);
    }
  });
});

describe("reconnect over TLS (wss://)", function () {
  this.timeout(30000);
  let pki: TestPki;
  before(async () => {
    pki = await makeTestPki();
  });
  after(async () => {
    await pki.cleanup();
  });

  function startWss(cert: TestCert, port = 0): Promise<WsTestServer> {
    const server = https.createServer({ key: cert.keyPem, cert: cert.certPem });
    server.on("tlsClientError", () => {});
    return startWsServer(server, port);
  }

  it("the wss:// server is stopped and restarted: the attempt verifies it again; a verification failure then ends the reconnecting, never retried, with its tls_reason", async () => {
    let wss = await startWss(pki.server);
    const port = wss.port;
    try {
      const h = await open({ hostname: "localhost", port, uri: "/echo", secured: true, ssl_config: { ca: pki.ca.certPem }, reconnect: FAST });
      await echoes(h, "over TLS");
      await wss.stop();
      await until("attempts meet the refused port", () => (websock_get_info(h)!.attempts ?? 0) >= 2);
      wss = await startWss(pki.server, port);
      assert.equal((await recvText(h)).n, WEBSOCK_ERR.RECONNECTED, websock_last_error(h).message);
      assert.equal(websock_get_info(h)!.tls?.version !== undefined, true);
      await echoes(h, "over TLS again");
      // The server comes back with a certificate for another name: retrying cannot fix that.
      await wss.stop();
      wss = await startWss(pki.otherName, port);
      const end = await recvText(h);
      assert.equal(end.n, WEBSOCK_ERR.TLS, websock_last_error(h).message);
      assert.equal(websock_last_error(h).tls_reason, "hostname_mismatch");
      const info = websock_get_info(h)!;
      assert.equal(info.state, "CLOSED");
      assert.equal(info.last_failure?.code, WEBSOCK_ERR.TLS);
      assert.equal(info.last_failure?.tls_reason, "hostname_mismatch");
      const attempts = info.attempts;
      await sleep(30);
      assert.equal(websock_get_info(h)!.attempts, attempts, "no attempt after the verification failure");
      await websock_close(h);
    } finally {
      await wss.stop();
    }
  });

  it("wss:// through the proxy: each attempt tunnels again and runs TLS end to end over the new tunnel", async () => {
    const proxy = await startProxy();
    let wss = await startWss(pki.server);
    const port = wss.port;
    try {
      const h = await open({ hostname: "localhost", port, uri: "/echo", secured: true, ssl_config: { ca: pki.ca.certPem }, proxy: proxy.url(), reconnect: FAST });
      await echoes(h, "through the tunnel");
      await wss.stop();
      await until("attempts meet the refused server", () => (websock_get_info(h)!.attempts ?? 0) >= 2);
      wss = await startWss(pki.server, port);
      assert.equal((await recvText(h)).n, WEBSOCK_ERR.RECONNECTED, websock_last_error(h).message);
      await echoes(h, "through a new tunnel");
      assert.equal(proxy.connects.length, websock_get_info(h)!.attempts! + 1);
      assert.ok(proxy.connects.every((c) => c === `localhost:${port}`));
      await websock_close(h);
    } finally {
      await Promise.all([wss.stop(), proxy.stop()]);
    }
  });
});
