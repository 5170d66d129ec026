// Issue 3: websock_ssl_config_t, end to end, on the Node host. Real TLS
// servers on 127.0.0.1 (Node https + ws, and openssl s_server where an alert
// is wanted), with a PKI made by openssl for this run (test/support/certs.ts).

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import { createPrivateKey } from "node:crypto";
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
  type websock_ssl_config_t,
} from "websock-rfc6455";
import { OPENSSL, makeTestPki, type TestCert, type TestPki } from "./support/certs.js";
import { startWsServer, type WsTestServer } from "./support/ws-server.js";

/** A ws server behind a Node https server, with what each TLS connection showed the server. */
interface TlsWsServer extends WsTestServer {
  /** SNI of each TLS connection (false: none sent). */
  sni: Array<string | false>;
  /** CN of the client certificate of each authorized TLS connection. */
  clientCns: string[];
  /** TCP connections accepted. */
  connections: number;
}

async function startTlsWs(options: https.ServerOptions): Promise<TlsWsServer> {
  const server = https.createServer(options);
  const sni: Array<string | false> = [];
  const clientCns: string[] = [];
  const ws = await startWsServer(server);
  const result: TlsWsServer = Object.assign(ws, { sni, clientCns, connections: 0 });
  server.on("connection", () => result.connections++);
  server.on("secureConnection", (socket: tls.TLSSocket) => {
    sni.push(socket.servername || false);
    if (socket.authorized) {
      const cn = socket.getPeerCertificate().subject?.CN;
      if (typeof cn === "string") clientCns.push(cn);
    }
  });
  server.on("tlsClientError", () => {});
  return result;
}

function serverOptions(cert: TestCert, extra: https.ServerOptions = {}): https.ServerOptions {
  return { key: cert.keyPem, cert: cert.certPem, ...extra };
}

/** Where time_out and a dead peer would otherwise stretch a failing test. */
const TIME_OUT = 3000;

function cfg(port: number, ssl: websock_ssl_config_t | undefined, hostname = "localhost", extra: Partial<websock_config_t> = {}): websock_config_t {
  return { hostname, port, uri: "/echo", secured: true, ssl_config: ssl, time_out: TIME_OUT, ...extra };
}

/** Opens, proves the connection carries a message both ways, and returns the handle (the caller closes it). */
async function openAndEcho(config: websock_config_t): Promise<websock_handle_t> {
  const h = await websock_open(config);
  assert.notEqual(h, null, `websock_open failed: ${JSON.stringify(websock_last_error())}`);
  assert.equal(await websock_send_text(h!, "over tls"), 0);
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(64);
  const n = await websock_recv(h!, hdr, buf, buf.length, 2000);
  assert.equal(new TextDecoder().decode(buf.subarray(0, n)), "over tls");
  return h!;
}

async function opens(config: websock_config_t): Promise<void> {
  await websock_close(await openAndEcho(config));
}

/** websock_open returns null with WEBSOCK_ERR_TLS and this tls_reason; returns the error for more checks. */
async function failsTls(config: websock_config_t, reason: string) {
  const h = await websock_open(config);
  if (h !== null) await websock_close(h);
  assert.equal(h, null, `websock_open succeeded; expected tls_reason ${reason}`);
  const e = websock_last_error();
  if (process.env.WEBSOCK_TEST_VERBOSE) console.log(`      ${e.tls_reason}: ${e.message}`);
  assert.deepEqual({ name: e.name, code: e.code, tls_reason: e.tls_reason }, { name: "WEBSOCK_ERR_TLS", code: WEBSOCK_ERR.TLS, tls_reason: reason }, e.message);
  return e;
}

/** websock_open refuses the config before connecting: INVALID_ARG with a message naming `field`. */
async function refused(config: websock_config_t, field: string): Promise<void> {
  const h = await websock_open(config);
  if (h !== null) await websock_close(h);
  assert.equal(h, null);
  const e = websock_last_error();
  assert.equal(e.code, WEBSOCK_ERR.INVALID_ARG, e.message);
  assert.equal(e.name, "WEBSOCK_ERR_INVALID_ARG");
  assert.ok(e.message.includes(field), `message does not name ${field}: ${e.message}`);
  assert.equal(e.tls_reason, undefined);
}

/** openssl s_server requiring a client certificate and failing the handshake on a bad one (it sends the alert). */
async function startOpensslServer(pki: TestPki): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(OPENSSL, [
    "s_server", "-accept", "127.0.0.1:0", "-cert", pki.server.certPath, "-key", pki.server.keyPath,
    "-CAfile", pki.ca.certPath, "-Verify", "1", "-verify_return_error",
  ], { stdio: ["pipe", "pipe", "pipe"] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`s_server did not start: ${out}`)), 5000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /ACCEPT 127\.0\.0\.1:(\d+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("error", reject);
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return { port, child };
}

describe("TLS: websock_ssl_config_t against real TLS servers on 127.0.0.1", function () {
  let pki: TestPki;
  let main: TlsWsServer; // the server certificate (DNS:localhost, IP:127.0.0.1), ALPN x-websock and http/1.1
  let tls12: TlsWsServer; // TLS 1.2 at most
  let expired: TlsWsServer;
  let notYetValid: TlsWsServer;
  let otherName: TlsWsServer;
  let mtls: TlsWsServer; // requires a client certificate from the CA (TLS 1.3)
  let mtls12: TlsWsServer; // the same, TLS 1.2 at most
  let plain: WsTestServer; // ws://, no TLS at all
  let silentTcp: net.Server; // accepts TCP and never answers: the TLS handshake never ends
  let silentTls: tls.Server; // finishes TLS and never answers the upgrade
  const silentSockets = new Set<net.Socket>();
  const port = (s: net.Server): number => (s.address() as net.AddressInfo).port;

  before(async function () {
    pki = await makeTestPki();
    const mtlsOptions: https.ServerOptions = { ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: true };
    [main, tls12, expired, notYetValid, otherName, mtls, mtls12, plain] = await Promise.all([
      startTlsWs(serverOptions(pki.server, { ALPNProtocols: ["x-websock", "http/1.1"] })),
      startTlsWs(serverOptions(pki.server, { maxVersion: "TLSv1.2" })),
      startTlsWs(serverOptions(pki.expired)),
      startTlsWs(serverOptions(pki.notYetValid)),
      startTlsWs(serverOptions(pki.otherName)),
      startTlsWs(serverOptions(pki.server, mtlsOptions)),
      startTlsWs(serverOptions(pki.server, { ...mtlsOptions, maxVersion: "TLSv1.2" })),
      startWsServer(),
    ]);
    const hold = (socket: net.Socket) => {
      silentSockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => silentSockets.delete(socket));
    };
    silentTcp = net.createServer(hold);
    silentTls = tls.createServer(serverOptions(pki.server), hold);
    await Promise.all([silentTcp, silentTls].map((s) => new Promise<void>((r) => s.listen(0, "127.0.0.1", r))));
  });

  after(async function () {
    for (const s of silentSockets) s.destroy();
    await Promise.all([main, tls12, expired, notYetValid, otherName, mtls, mtls12, plain].filter((s) => s !== undefined).map((s) => s.stop()));
    await Promise.all([silentTcp, silentTls].filter((s) => s !== undefined).map((s) => new Promise((r) => s.close(r))));
    await pki?.cleanup();
  });

  describe("a trusted server", function () {
    it("the test helper serves wss:// behind an https server", function () {
      assert.match(main.url("/echo"), /^wss:\/\/127\.0\.0\.1:\d+\/echo$/);
      assert.match(plain.url("/echo"), /^ws:\/\//);
    });

    it("opens by name with the CA as PEM, verifies DNS:localhost and sends it as SNI", async function () {
      const before = main.sni.length;
      await opens(cfg(main.port, { ca: pki.ca.certPem }));
      assert.deepEqual(main.sni.slice(before), ["localhost"]);
    });

    it("opens by IP, verified against the IP SAN, with no SNI (RFC 6066 §3: names only)", async function () {
      const before = main.sni.length;
      await opens(cfg(main.port, { ca: pki.ca.certPem }, "127.0.0.1"));
      assert.deepEqual(main.sni.slice(before), [false]);
    });

    it("takes the CA as DER bytes, and as a list of PEM and DER mixed", async function () {
      await opens(cfg(main.port, { ca: pki.ca.certDer }));
      await opens(cfg(main.port, { ca: [pki.rogueCa.certPem, pki.ca.certDer] }));
      await opens(cfg(main.port, { ca: [pki.rogueCa.certDer, pki.ca.certPem] }, "127.0.0.1"));
    });

    it("takes a PEM bundle of several CAs in one string, with text around the blocks", async function () {
      await opens(cfg(main.port, { ca: pki.rogueCa.certPem + pki.ca.certPem }));
      await opens(cfg(main.port, { ca: `subject=CN = websock test CA\r\n${pki.ca.certPem.replace(/\n/g, "\r\n")}` }));
    });

    it("server_name is both the SNI and the name verified, whatever the hostname", async function () {
      const before = main.sni.length;
      await opens(cfg(main.port, { ca: pki.ca.certPem, server_name: "localhost" }, "127.0.0.1"));
      assert.deepEqual(main.sni.slice(before), ["localhost"]);
      // The certificate for other.example passes when that is the name asked for...
      await opens(cfg(otherName.port, { ca: pki.ca.certPem, server_name: "other.example" }, "127.0.0.1"));
      // ...and the one for localhost fails it, even reached as localhost.
      await failsTls(cfg(main.port, { ca: pki.ca.certPem, server_name: "other.example" }), "hostname_mismatch");
      // An IP server_name is verified against IP SANs.
      await opens(cfg(main.port, { ca: pki.ca.certPem, server_name: "127.0.0.1" }));
      await failsTls(cfg(main.port, { ca: pki.ca.certPem, server_name: "127.0.0.2" }), "hostname_mismatch");
    });

    it("websock_get_info reports the TLS version, the cipher suite and the ALPN protocol", async function () {
      const h = await openAndEcho(cfg(main.port, { ca: pki.ca.certPem, alpn: ["x-unknown", "http/1.1"] }));
      const info = websock_get_info(h);
      await websock_close(h);
      assert.equal(info?.state, "OPEN");
      assert.equal(info?.tls?.version, "TLSv1.3");
      assert.match(info?.tls?.cipher ?? "", /^TLS_(AES_128_GCM|AES_256_GCM|CHACHA20_POLY1305)_SHA(256|384)$/);
      assert.equal(info?.tls?.alpn, "http/1.1");
    });

    it("reports an empty ALPN when none was offered, and no tls at all for ws://", async function () {
      const h = await openAndEcho(cfg(main.port, { ca: pki.ca.certPem }));
      assert.equal(websock_get_info(h)?.tls?.alpn, "");
      await websock_close(h);
      const p = await openAndEcho({ hostname: "127.0.0.1", port: plain.port, uri: "/echo", time_out: TIME_OUT });
      assert.equal(websock_get_info(p)?.tls, undefined);
      await websock_close(p);
    });

    it("fails with alpn_mismatch when the server speaks none of the ALPN protocols offered", async function () {
      await failsTls(cfg(main.port, { ca: pki.ca.certPem, alpn: ["h2", "x-other"] }), "alpn_mismatch");
    });
  });

  describe("verification failures, each with its tls_reason", function () {
    it("untrusted_ca without ssl_config.ca: Node's bundled CAs, which do not include the test CA", async function () {
      const e = await failsTls(cfg(main.port, {}), "untrusted_ca");
      assert.match(e.message, /^the TLS handshake failed: localhost:\d+: /);
      await failsTls(cfg(main.port, undefined, "127.0.0.1"), "untrusted_ca");
    });

    it("untrusted_ca with another CA", async function () {
      await failsTls(cfg(main.port, { ca: pki.rogueCa.certPem }), "untrusted_ca");
    });

    it("hostname_mismatch for a certificate that names another host, by name and by IP", async function () {
      const e = await failsTls(cfg(otherName.port, { ca: pki.ca.certPem }), "hostname_mismatch");
      assert.match(e.message, /other\.example/);
      await failsTls(cfg(otherName.port, { ca: pki.ca.certPem }, "127.0.0.1"), "hostname_mismatch");
    });

    it("expired for a certificate past its notAfter", async function () {
      await failsTls(cfg(expired.port, { ca: pki.ca.certPem }), "expired");
    });

    it("not_yet_valid for a certificate before its notBefore", async function () {
      await failsTls(cfg(notYetValid.port, { ca: pki.ca.certPem }), "not_yet_valid");
    });

    it("no failure sends the upgrade request", async function () {
      for (const s of [main, otherName, expired, notYetValid]) assert.deepEqual(s.requests.filter((r) => r.path !== "/echo"), []);
      const before = otherName.requests.length;
      await failsTls(cfg(otherName.port, { ca: pki.ca.certPem }), "hostname_mismatch");
      assert.equal(otherName.requests.length, before);
    });
  });

  describe("verify", function () {
    it("false skips verification, and only when it is explicitly false", async function () {
      await opens(cfg(expired.port, { verify: false }));
      await opens(cfg(otherName.port, { verify: false }));
      await opens(cfg(main.port, { verify: false }));
      await failsTls(cfg(expired.port, { verify: undefined, ca: pki.ca.certPem }), "expired");
      await failsTls(cfg(main.port, { verify: true }), "untrusted_ca");
    });

    it("anything but a boolean is refused at open", async function () {
      for (const verify of ["false", 0, null]) {
        await refused(cfg(main.port, { verify: verify as unknown as boolean }), "ssl_config.verify");
      }
    });
  });

  describe("pin_sha256 (SHA-256 of the server's SubjectPublicKeyInfo)", function () {
    it("passes when one pin matches", async function () {
      await opens(cfg(main.port, { ca: pki.ca.certPem, pin_sha256: [pki.server.spkiSha256] }));
      await opens(cfg(main.port, { ca: pki.ca.certPem, pin_sha256: [pki.client.spkiSha256, pki.server.spkiSha256] }));
    });

    it("fails with pin_mismatch when none matches, before the upgrade request is sent", async function () {
      const before = main.requests.length;
      const e = await failsTls(cfg(main.port, { ca: pki.ca.certPem, pin_sha256: [pki.client.spkiSha256] }), "pin_mismatch");
      assert.ok(e.message.includes(`sha256/${pki.server.spkiSha256}`), e.message);
      assert.equal(main.requests.length, before);
    });

    it("pins the server's own key, not its CA's", async function () {
      await failsTls(cfg(main.port, { ca: pki.ca.certPem, pin_sha256: [pki.ca.spkiSha256] }), "pin_mismatch");
    });

    it("is enforced with verify false", async function () {
      await opens(cfg(main.port, { verify: false, pin_sha256: [pki.server.spkiSha256] }));
      await failsTls(cfg(main.port, { verify: false, pin_sha256: [pki.expired.spkiSha256] }), "pin_mismatch");
      await failsTls(cfg(expired.port, { verify: false, pin_sha256: [pki.server.spkiSha256] }), "pin_mismatch");
    });
  });

  describe("min_version", function () {
    it("TLSv1.3 against a server that stops at 1.2 fails with protocol_version", async function () {
      await failsTls(cfg(tls12.port, { ca: pki.ca.certPem, min_version: "TLSv1.3" }), "protocol_version");
    });

    it("TLSv1.2 connects to it, and get_info says TLSv1.2 with the suite's IANA name", async function () {
      const h = await openAndEcho(cfg(tls12.port, { ca: pki.ca.certPem, min_version: "TLSv1.2" }));
      const info = websock_get_info(h);
      await websock_close(h);
      assert.equal(info?.tls?.version, "TLSv1.2");
      assert.match(info?.tls?.cipher ?? "", /^TLS_ECDHE_ECDSA_WITH_/);
    });

    it("TLSv1.3 against a 1.3 server is fine", async function () {
      await opens(cfg(main.port, { ca: pki.ca.certPem, min_version: "TLSv1.3" }));
    });
  });

  describe("mutual TLS", function () {
    for (const [label, server] of [["TLS 1.3", () => mtls], ["TLS 1.2", () => mtls12]] as const) {
      describe(label, function () {
        it("is accepted with the client certificate and key as PEM", async function () {
          const s = server();
          const before = s.clientCns.length;
          await opens(cfg(s.port, { ca: pki.ca.certPem, cert: pki.client.certPem, key: pki.client.keyPem }));
          assert.deepEqual(s.clientCns.slice(before), ["websock test client"]);
        });

        it("is accepted with the certificate and key as DER (PKCS#8 and SEC1)", async function () {
          const s = server();
          await opens(cfg(s.port, { ca: pki.ca.certDer, cert: pki.client.certDer, key: pki.client.keyDer }));
          const sec1 = new Uint8Array(createPrivateKey(pki.client.keyPem).export({ type: "sec1", format: "der" }));
          await opens(cfg(s.port, { ca: pki.ca.certDer, cert: pki.client.certDer, key: sec1 }, "127.0.0.1"));
        });

        it("is refused with client_cert_required when no certificate is configured", async function () {
          const s = server();
          const before = s.requests.length;
          await failsTls(cfg(s.port, { ca: pki.ca.certPem }), "client_cert_required");
          assert.equal(s.requests.length, before);
        });

        it("is refused with client_cert_rejected for a certificate from another CA", async function () {
          const s = server();
          const before = s.requests.length;
          await failsTls(cfg(s.port, { ca: pki.ca.certPem, cert: pki.rogueClient.certPem, key: pki.rogueClient.keyPem }), "client_cert_rejected");
          assert.equal(s.requests.length, before);
        });
      });
    }

    it("client_cert_rejected from the alert of a server that fails the handshake itself (openssl s_server)", async function () {
      const { port: p, child } = await startOpensslServer(pki);
      try {
        const e = await failsTls(cfg(p, { ca: pki.ca.certPem, cert: pki.rogueClient.certPem, key: pki.rogueClient.keyPem }, "127.0.0.1"), "client_cert_rejected");
        assert.match(e.message, /ERR_SSL_TLSV1_ALERT_UNKNOWN_CA/);
        await failsTls(cfg(p, { ca: pki.ca.certPem }, "127.0.0.1"), "client_cert_required");
      } finally {
        child.kill();
      }
    });
  });

  describe("never a fallback, never a hang", function () {
    it("wss:// to a server that does not speak TLS fails with handshake, and sends it nothing in plaintext", async function () {
      const before = plain.requests.length;
      const e = await failsTls(cfg(plain.port, { ca: pki.ca.certPem }, "127.0.0.1"), "handshake");
      assert.equal(e.http_status, undefined);
      assert.equal(plain.requests.length, before);
      // The same server over ws:// does see the request, so the count above can move.
      await opens({ hostname: "127.0.0.1", port: plain.port, uri: "/echo", time_out: TIME_OUT });
      assert.equal(plain.requests.length, before + 1);
    });

    it("time_out during the TLS handshake: WEBSOCK_ERR_TIMEOUT with tls_reason handshake_timeout", async function () {
      const started = Date.now();
      const h = await websock_open(cfg(port(silentTcp), { ca: pki.ca.certPem }, "127.0.0.1", { time_out: 300 }));
      assert.equal(h, null);
      const e = websock_last_error();
      assert.deepEqual({ name: e.name, tls_reason: e.tls_reason }, { name: "WEBSOCK_ERR_TIMEOUT", tls_reason: "handshake_timeout" }, e.message);
      assert.match(e.message, /in the TLS handshake/);
      assert.ok(Date.now() - started < 2000);
    });

    it("a timeout after TLS, or without TLS, carries no tls_reason", async function () {
      assert.equal(await websock_open(cfg(port(silentTls), { ca: pki.ca.certPem }, "localhost", { time_out: 300 })), null);
      let e = websock_last_error();
      assert.deepEqual({ name: e.name, tls_reason: e.tls_reason }, { name: "WEBSOCK_ERR_TIMEOUT", tls_reason: undefined }, e.message);
      assert.equal(await websock_open({ hostname: "127.0.0.1", port: port(silentTcp), time_out: 300 }), null);
      e = websock_last_error();
      assert.deepEqual({ name: e.name, tls_reason: e.tls_reason }, { name: "WEBSOCK_ERR_TIMEOUT", tls_reason: undefined }, e.message);
    });
  });

  describe("ssl_config is checked at open, before connecting", function () {
    const garblePem = (pem: string) => pem.replace(/(-----BEGIN CERTIFICATE-----\n)(.{20})/, "$1AAAAAAAAAAAAAAAAAAAA");

    it("refuses malformed CAs, naming the field", async function () {
      const before = main.connections;
      await refused(cfg(main.port, { ca: "not a certificate" }), "ssl_config.ca");
      await refused(cfg(main.port, { ca: garblePem(pki.ca.certPem) }), "ssl_config.ca");
      await refused(cfg(main.port, { ca: pki.ca.certPem.slice(0, -40) }), "ssl_config.ca");
      await refused(cfg(main.port, { ca: pki.ca.certPem + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" }), "ssl_config.ca");
      await refused(cfg(main.port, { ca: [pki.ca.certPem, new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])] }), "ssl_config.ca[1]");
      await refused(cfg(main.port, { ca: 42 as unknown as string }), "ssl_config.ca");
      await refused(cfg(main.port, { ca: pki.ca.certPem + pki.ca.keyPem }), "ssl_config.ca");
      await refused(cfg(main.port, { ca: "" }), "ssl_config.ca");
      await refused(cfg(main.port, { ca: new Uint8Array(0) }), "ssl_config.ca");
      assert.equal(main.connections, before);
    });

    it("refuses a key without a certificate, a certificate without a key, and either malformed", async function () {
      const c = pki.client;
      await refused(cfg(mtls.port, { key: c.keyPem }), "ssl_config.key");
      await refused(cfg(mtls.port, { cert: c.certPem }), "ssl_config.cert");
      await refused(cfg(mtls.port, { cert: garblePem(c.certPem), key: c.keyPem }), "ssl_config.cert");
      await refused(cfg(mtls.port, { cert: c.certPem, key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" }), "ssl_config.key");
      await refused(cfg(mtls.port, { cert: c.certPem, key: c.keyDer.subarray(0, 20) }), "ssl_config.key");
      // A key that is not the certificate's.
      await refused(cfg(mtls.port, { cert: c.certPem, key: pki.server.keyPem }), "ssl_config.key");
    });

    it("refuses the other fields when malformed", async function () {
      await refused(cfg(main.port, { server_name: "" }), "ssl_config.server_name");
      await refused(cfg(main.port, { server_name: "local host" }), "ssl_config.server_name");
      await refused(cfg(main.port, { alpn: [""] }), "ssl_config.alpn");
      await refused(cfg(main.port, { alpn: "http/1.1" as unknown as string[] }), "ssl_config.alpn");
      await refused(cfg(main.port, { min_version: "TLSv1.1" as "TLSv1.2" }), "ssl_config.min_version");
      await refused(cfg(main.port, { pin_sha256: ["abc"] }), "ssl_config.pin_sha256");
      await refused(cfg(main.port, { pin_sha256: pki.server.spkiSha256 as unknown as string[] }), "ssl_config.pin_sha256");
      await refused(cfg(main.port, { pin_sha256: [] }), "ssl_config.pin_sha256");
    });
  });
});
