// Issue 14: an HTTP proxy with CONNECT (`proxy` in websock_config_t), for
// ws:// and wss:// (TLS end to end through the tunnel), Basic proxy
// authentication, a 407 with its status; through a real proxy server from
// npm (test/support/proxy-server.ts), and raw TCP servers where a proxy must
// misbehave.

import assert from "node:assert/strict";
import https from "node:https";
import net from "node:net";
import {
  WEBSOCK_ERR,
  createWebsock,
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
import { nodeHost } from "../hosts/node/node-host.js";
import { makeTestPki, type TestPki } from "./support/certs.js";
import { startProxy, type TestProxy } from "./support/proxy-server.js";
import { startRawServer, type RawServer } from "./support/raw-server.js";
import { startWsServer, type WsTestServer } from "./support/ws-server.js";

async function echoes(h: websock_handle_t, text: string): Promise<void> {
  assert.equal(await websock_send_text(h, text), 0);
  const buf = new Uint8Array(256);
  const hdr = websock_msg_hdr_init();
  const n = await websock_recv(h, hdr, buf, buf.length, 5000);
  assert.equal(new TextDecoder().decode(buf.subarray(0, n)), text);
}

async function refused(cfg: websock_config_t): Promise<ReturnType<typeof websock_last_error>> {
  const h = await websock_open(cfg);
  assert.equal(h, null, "websock_open should have failed");
  return websock_last_error();
}

describe("HTTP proxy (CONNECT)", function () {
  this.timeout(20000);
  let ws: WsTestServer;
  let wss: WsTestServer;
  let pki: TestPki;
  let open: TestProxy;
  let guarded: TestProxy;
  const raws: RawServer[] = [];

  before(async function () {
    pki = await makeTestPki();
    [ws, wss, open, guarded] = await Promise.all([
      startWsServer(),
      startWsServer(https.createServer({ key: pki.server.keyPem, cert: pki.server.certPem })),
      startProxy(),
      startProxy("alice:s3cr:et"),
    ]);
  });
  after(async function () {
    await Promise.all([ws.stop(), wss.stop(), open.stop(), guarded.stop(), ...raws.map((r) => r.stop())]);
    await pki.cleanup();
  });

  it("ws:// through the proxy: CONNECT host:port, then the handshake and frames through the tunnel", async function () {
    const h = await websock_open({ hostname: "127.0.0.1", port: ws.port, uri: "/echo", proxy: open.url() });
    assert.ok(h, websock_last_error().message);
    await echoes(h, "through the tunnel");
    assert.equal(websock_get_info(h)!.url, `ws://127.0.0.1:${ws.port}/echo`);
    await websock_close(h);
    assert.equal(open.connects.at(-1), `127.0.0.1:${ws.port}`);
    // The server saw the WebSocket request, with its own Host: the proxy is not in it.
    assert.equal(ws.requests.at(-1)!.headers.host, `127.0.0.1:${ws.port}`);
    assert.equal(ws.requests.at(-1)!.headers["proxy-authorization"], undefined);
  });

  it("wss:// through the proxy: TLS end to end, the server's certificate verified as on a direct connection", async function () {
    const h = await websock_open({ hostname: "localhost", port: wss.port, uri: "/echo", secured: true, ssl_config: { ca: pki.ca.certPem }, proxy: open.url() });
    assert.ok(h, websock_last_error().message);
    await echoes(h, "tls over the tunnel");
    const info = websock_get_info(h)!;
    assert.match(info.tls!.version, /^TLSv1\.[23]$/);
    assert.equal(info.url, `wss://localhost:${wss.port}/echo`);
    await websock_close(h);
    assert.equal(open.connects.at(-1), `localhost:${wss.port}`);
  });

  it("wss:// through the proxy to a server the CA does not vouch for: WEBSOCK_ERR_TLS untrusted_ca (the proxy cannot pose as the server)", async function () {
    const e = await refused({ hostname: "localhost", port: wss.port, secured: true, ssl_config: { ca: pki.rogueCa.certPem }, proxy: open.url() });
    assert.equal(e.code, WEBSOCK_ERR.TLS);
    assert.equal(e.tls_reason, "untrusted_ca");
  });

  it("a host without startTls (TLS cannot run over the tunnel): wss:// through a proxy is refused at open with WEBSOCK_ERR_UNSUPPORTED, nothing connected; ws:// still works", async function () {
    const { startTls: _omitted, ...withoutStartTls } = nodeHost;
    const before = open.connects.length;
    createWebsock(withoutStartTls);
    try {
      const e = await refused({ hostname: "localhost", port: wss.port, secured: true, ssl_config: { ca: pki.ca.certPem }, proxy: open.url() });
      assert.equal(e.code, WEBSOCK_ERR.UNSUPPORTED);
      assert.equal(e.name, "WEBSOCK_ERR_UNSUPPORTED");
      assert.match(e.message, /TLS over the proxy's tunnel/);
      assert.equal(open.connects.length, before);
      const h = await websock_open({ hostname: "127.0.0.1", port: ws.port, uri: "/echo", proxy: open.url() });
      assert.ok(h, websock_last_error().message);
      await websock_close(h);
    } finally {
      createWebsock(nodeHost);
    }
  });

  it("Basic proxy authentication: user:password@ in the proxy URL (percent-decoded) goes out as Proxy-Authorization", async function () {
    const h = await websock_open({ hostname: "127.0.0.1", port: ws.port, uri: "/echo", proxy: guarded.url("alice:s3cr%3Aet") });
    assert.ok(h, websock_last_error().message);
    await echoes(h, "authenticated");
    await websock_close(h);
    assert.equal(guarded.authorizations.at(-1), "Basic " + Buffer.from("alice:s3cr:et").toString("base64"));
  });

  it("a 407 without credentials, and with wrong ones: WEBSOCK_ERR_PROXY with http_status 407 and the Proxy-Authenticate challenge; no credential in the message", async function () {
    let e = await refused({ hostname: "127.0.0.1", port: ws.port, proxy: guarded.url() });
    assert.equal(e.code, WEBSOCK_ERR.PROXY);
    assert.equal(e.name, "WEBSOCK_ERR_PROXY");
    assert.equal(e.http_status, 407);
    assert.match(e.message, /407/);
    assert.match(e.message, /Proxy-Authenticate: Basic realm=/);
    e = await refused({ hostname: "127.0.0.1", port: ws.port, proxy: guarded.url("alice:wrong-secret") });
    assert.equal(e.http_status, 407);
    assert.match(e.message, /refused the credentials/);
    assert.doesNotMatch(e.message, /wrong-secret|alice/);
  });

  it("a proxy that cannot reach the target answers an error status: WEBSOCK_ERR_PROXY with that status", async function () {
    const closed = await startRawServer(() => {});
    const port = closed.port;
    await closed.stop();
    const e = await refused({ hostname: "127.0.0.1", port, proxy: open.url() });
    assert.equal(e.code, WEBSOCK_ERR.PROXY);
    assert.ok(e.http_status !== undefined && e.http_status >= 400, `http_status ${e.http_status}`);
  });

  it("a proxy that is not listening: WEBSOCK_ERR_CONNECT, the message naming the proxy", async function () {
    const closed = await startRawServer(() => {});
    const port = closed.port;
    await closed.stop();
    const e = await refused({ hostname: "127.0.0.1", port: ws.port, proxy: `http://127.0.0.1:${port}` });
    assert.equal(e.code, WEBSOCK_ERR.CONNECT);
    assert.match(e.message, new RegExp(`proxy 127\\.0\\.0\\.1:${port}`));
  });

  describe("proxies that misbehave (raw TCP servers)", function () {
    async function rawProxy(answer: (peer: import("./support/raw-server.js").RawPeer) => void): Promise<string> {
      const server = await startRawServer(answer);
      raws.push(server);
      return `http://127.0.0.1:${server.port}`;
    }

    it("an HTTP/1.0 200 is a tunnel too (RFC 9110 §9.3.6: any 2xx); the CONNECT request is authority-form with Host", async function () {
      let request = "";
      const proxy = await rawProxy((peer) => {
        request = peer.request.text;
        peer.socket.write("HTTP/1.0 200 Connection established\r\nVia: test\r\n\r\n");
        // Splice to the ws server by hand.
        const upstream = net.connect(ws.port, "127.0.0.1");
        upstream.on("error", () => {});
        peer.socket.on("data", (d: Buffer) => upstream.write(d));
        upstream.on("data", (d: Buffer) => peer.socket.write(d));
        peer.socket.on("close", () => upstream.destroy());
        upstream.on("close", () => peer.socket.destroy());
      });
      const h = await websock_open({ hostname: "127.0.0.1", port: ws.port, uri: "/echo", proxy });
      assert.ok(h, websock_last_error().message);
      await echoes(h, "spliced");
      await websock_close(h);
      assert.match(request, new RegExp(`^CONNECT 127\\.0\\.0\\.1:${ws.port} HTTP/1\\.1\r\nHost: 127\\.0\\.0\\.1:${ws.port}\r\n\r\n$`));
    });

    it("an endless answer: WEBSOCK_ERR_PROXY after 8192 bytes of headers, not a hang or unbounded memory", async function () {
      const proxy = await rawProxy((peer) => {
        peer.socket.write("HTTP/1.1 200 OK\r\n");
        for (let i = 0; i < 100; i++) peer.socket.write(`X-Filler-${i}: ${"x".repeat(100)}\r\n`);
      });
      const e = await refused({ hostname: "127.0.0.1", port: ws.port, proxy });
      assert.equal(e.code, WEBSOCK_ERR.PROXY);
      assert.match(e.message, /more than 8192 bytes/);
    });

    it("bytes after the 200 before the tunnel was used: WEBSOCK_ERR_PROXY (the server cannot speak first)", async function () {
      const proxy = await rawProxy((peer) => peer.socket.write("HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n\r\n"));
      const e = await refused({ hostname: "127.0.0.1", port: ws.port, proxy });
      assert.equal(e.code, WEBSOCK_ERR.PROXY);
      assert.match(e.message, /bytes after its 2xx/);
    });

    it("not HTTP, and a close before answering: WEBSOCK_ERR_PROXY each", async function () {
      let proxy = await rawProxy((peer) => peer.socket.write("SSH-2.0-OpenSSH_9.6\r\n"));
      let e = await refused({ hostname: "127.0.0.1", port: ws.port, proxy });
      assert.equal(e.code, WEBSOCK_ERR.PROXY);
      assert.match(e.message, /HTTP status line/);
      proxy = await rawProxy((peer) => peer.socket.end());
      e = await refused({ hostname: "127.0.0.1", port: ws.port, proxy });
      assert.equal(e.code, WEBSOCK_ERR.PROXY);
      assert.match(e.message, /closed the connection before answering CONNECT/);
    });

    it("a proxy that never answers: WEBSOCK_ERR_TIMEOUT saying it waited for the proxy", async function () {
      const proxy = await rawProxy(() => {});
      const e = await refused({ hostname: "127.0.0.1", port: ws.port, proxy, time_out: 300 });
      assert.equal(e.code, WEBSOCK_ERR.TIMEOUT);
      assert.match(e.message, /waiting for the proxy/);
    });
  });

  describe("the proxy field", function () {
    for (const [proxy, pattern] of [
      ["https://127.0.0.1:3128", /only http:\/\/ proxies/],
      ["socks5://127.0.0.1:1080", /only http:\/\//],
      ["http://127.0.0.1:99999", /port must be/],
      ["http://user:pa%zzss@127.0.0.1:3128", /malformed %-escape/],
      ["http://127.0.0.1:3128/path", /is not "http:\/\/\[user:password@\]host\[:port\]"/],
      [42, /proxy must be a string/],
    ] as const) {
      it(`refuses ${JSON.stringify(proxy)} naming the field, never the credentials`, async function () {
        const e = await refused({ hostname: "127.0.0.1", port: ws.port, proxy: proxy as string });
        assert.equal(e.code, WEBSOCK_ERR.INVALID_ARG);
        assert.match(e.message, /proxy/);
        assert.match(e.message, pattern);
        assert.doesNotMatch(e.message, /pa%zzss/);
      });
    }

    it("no scheme is http://, and no port is 1080, as curl reads them", async function () {
      const e = await refused({ hostname: "127.0.0.1", port: ws.port, proxy: "127.0.0.1", time_out: 2000 });
      // Nothing listens on 1080 here: the connect to the proxy's default port fails, and says where.
      assert.equal(e.code, WEBSOCK_ERR.CONNECT);
      assert.match(e.message, /proxy 127\.0\.0\.1:1080/);
    });
  });
});
