// Issue 13: websock's mbedTLS engine (hosts/moddable/mbedtls/websock_tls.c)
// inside the real XS engine. An xsnap worker is built with the engine compiled
// in and linked against the system's mbedTLS (tools/xsnap-tls/build.mjs;
// Debian 12: libmbedtls-dev 2.28); hosts/moddable runs in it as a Moddable
// app, over the ECMA-419 TCP emulation, and opens wss:// through
// mbedtls-transport.ts. The relay carries ciphertext only: Node runs real
// tls servers with certificates made for this run (test/support/certs.ts,
// ECDSA P-256 keys), the TLS is done by mbedTLS inside the worker.
//
// WEBSOCK_TLS_ASAN=1 builds and runs the worker under AddressSanitizer (the
// CI's extra pass): LeakSanitizer then checks, as the worker exits, that
// nothing of the 1,000 handshakes (failed ones included) is left. Set
// WEBSOCK_TLS_MBEDTLS=DIR to link an mbedTLS 3.x tree built by hand instead.

import { strict as assert } from "node:assert";
import https from "node:https";
import net from "node:net";
import path from "node:path";
import type tls from "node:tls";
import { fileURLToPath } from "node:url";
import { makeTestPki, type TestCert, type TestPki } from "../support/certs.js";
import { startWsServer, type WsTestServer } from "../support/ws-server.js";
import { ModdableRelay } from "./ecma419-kernel.js";
import { bundleModdableForXs } from "./moddable-bundle.js";
import type { TlsOpenReport } from "./moddable-reports.js";
import { xsTally } from "./xs-tally.js";
import { startXsWorker, xsEngineVersion, type XsWorker } from "./xsnap-driver.js";
// @ts-expect-error: a plain .mjs build script, no types
import { buildTlsWorker } from "../../tools/xsnap-tls/build.mjs";

const ENTRY = fileURLToPath(new URL("./mbedtls-entry.ts", import.meta.url));
const ASAN = process.env.WEBSOCK_TLS_ASAN === "1";
const MBEDTLS_DIR = process.env.WEBSOCK_TLS_MBEDTLS ? path.resolve(process.env.WEBSOCK_TLS_MBEDTLS) : "";
/** The relay's poll of the emulated sockets (the simulator's is 20 ms): shorter, for speed. */
const POLL_MS = 2;
const HANDSHAKES = 1000;

interface TlsWsServer extends WsTestServer {
  /** CN of the client certificate of each authorized TLS connection. */
  clientCns: string[];
  /** SNI of each TLS connection. */
  sni: Array<string | false>;
}

async function startTlsWs(cert: TestCert, extra: https.ServerOptions = {}): Promise<TlsWsServer> {
  const server = https.createServer({ key: cert.keyPem, cert: cert.certPem, ...extra });
  const ws = await startWsServer(server);
  const result: TlsWsServer = Object.assign(ws, { clientCns: [] as string[], sni: [] as Array<string | false> });
  server.on("secureConnection", (socket: tls.TLSSocket) => {
    result.sni.push(socket.servername || false);
    const cn = socket.authorized ? socket.getPeerCertificate().subject?.CN : undefined;
    if (typeof cn === "string") result.clientCns.push(cn);
  });
  server.on("tlsClientError", () => {});
  // Every TCP connection, mid-handshake ones included (the https server tracks only those past TLS): stop() ends them all.
  const raw = new Set<net.Socket>();
  server.on("connection", (socket: net.Socket) => {
    raw.add(socket);
    socket.on("close", () => raw.delete(socket));
  });
  const stop = result.stop;
  result.stop = () => {
    for (const socket of raw) socket.destroy();
    return stop();
  };
  return result;
}

const hex = (bytes: Uint8Array): string => `hex:${Buffer.from(bytes).toString("hex")}`;

describe(`inside XS (${xsEngineVersion()}): wss:// through websock's mbedTLS engine${ASAN ? " (AddressSanitizer)" : ""}`, function () {
  this.timeout(120000);
  let pki: TestPki;
  let main: TlsWsServer; // the server's leaf only (no chain), ALPN x-websock and http/1.1
  let tls12: TlsWsServer;
  let expired: TlsWsServer;
  let notYetValid: TlsWsServer;
  let otherName: TlsWsServer;
  let mtls12: TlsWsServer; // requires a client certificate from the CA, TLS 1.2
  let plainTcp: net.Server; // not TLS at all: answers with HTTP
  const plainSockets = new Set<net.Socket>();
  let bundle: string;
  let binary: string;
  let worker: XsWorker | undefined;
  let relay: ModdableRelay;

  before(async function () {
    binary = buildTlsWorker({ asan: ASAN, mbedtls: MBEDTLS_DIR });
    bundle = await bundleModdableForXs(ENTRY, "XsTls");
    pki = await makeTestPki();
    const mtls = { ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: true, maxVersion: "TLSv1.2" as const };
    [main, tls12, expired, notYetValid, otherName, mtls12] = await Promise.all([
      startTlsWs(pki.server, { ALPNProtocols: ["x-websock", "http/1.1"] }),
      startTlsWs(pki.server, { maxVersion: "TLSv1.2" }),
      startTlsWs(pki.expired),
      startTlsWs(pki.notYetValid),
      startTlsWs(pki.otherName),
      startTlsWs(pki.server, mtls),
    ]);
    plainTcp = net.createServer((s) => {
      plainSockets.add(s);
      s.on("close", () => plainSockets.delete(s));
      s.on("error", () => {});
      s.end("HTTP/1.1 400 Bad Request\r\n\r\n");
    });
    await new Promise<void>((r) => plainTcp.listen(0, "127.0.0.1", r));
  });

  beforeEach(async function () {
    relay = new ModdableRelay();
    worker = startXsWorker({ binary, handleCommand: (request) => relay.answer(request) });
    relay.attach(worker);
    await worker.evaluate(bundle);
  });

  afterEach(async function () {
    relay.shutdown();
    const exit = await worker!.close();
    worker = undefined;
    // Under AddressSanitizer a leak (or any error it finds) makes the exit non-zero.
    assert.deepEqual(exit, { code: 0, signal: null }, "the xsnap worker did not exit cleanly");
    assert.deepEqual(relay.errors.map(String), [], "a delivery to the worker failed");
  });

  after(async function () {
    await Promise.all([main, tls12, expired, notYetValid, otherName, mtls12].filter((s) => s !== undefined).map((s) => s.stop()));
    for (const socket of plainSockets) socket.destroy();
    await new Promise((r) => (plainTcp ? plainTcp.close(r) : r(undefined)));
    await pki?.cleanup();
  });

  const config = (port: number, ssl: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    hostname: "127.0.0.1", port, uri: "/echo", secured: true, time_out: 10000,
    ssl_config: { server_name: "localhost", tls_engine: "mbedtls", ...ssl }, ...extra,
  });

  async function open(cfg: object, echo = ""): Promise<TlsOpenReport> {
    const arrives = relay.nextReport<TlsOpenReport>(60000);
    await worker!.evaluate(`XsTls.openTls(${JSON.stringify(JSON.stringify(cfg))}, ${JSON.stringify(echo)}, ${POLL_MS})`);
    const r = await arrives;
    xsTally.assertions++;
    return r;
  }

  async function opens(cfg: object, echo = "over mbedTLS"): Promise<TlsOpenReport> {
    const r = await open(cfg, echo);
    assert.ok(r.opened, `websock_open failed: ${JSON.stringify(r.error)}`);
    assert.equal(r.echoed, echo);
    return r;
  }

  async function failsTls(cfg: object, reason: string): Promise<TlsOpenReport> {
    const r = await open(cfg);
    assert.equal(r.opened, false, `websock_open succeeded; expected tls_reason ${reason}`);
    if (process.env.WEBSOCK_TEST_VERBOSE) console.log(`      ${r.error.tls_reason}: ${r.error.message}`);
    assert.deepEqual({ name: r.error.name, tls_reason: r.error.tls_reason }, { name: "WEBSOCK_ERR_TLS", tls_reason: reason }, r.error.message);
    return r;
  }

  it("the worker has the engine: the linked mbedTLS says what it can do", async function () {
    const arrives = relay.nextReport<{ version: string; tls13: boolean; alpn: boolean }>(10000);
    await worker!.evaluate("XsTls.capabilities()");
    const caps = await arrives;
    assert.match(caps.version, /^mbed TLS \d+\.\d+\.\d+/i);
    assert.equal(caps.alpn, true);
    console.log(`      ${caps.version}, TLS 1.3: ${caps.tls13}`);
  });

  it("trusted CA (PEM): opens, echoes, and reports TLS 1.2 with an ECDSA suite (the server's key is ECDSA P-256)", async function () {
    const before = main.requests.length;
    const r = await opens(config(main.port, { ca: pki.ca.certPem }));
    assert.equal(main.requests.length, before + 1);
    assert.equal(main.sni.at(-1), "localhost", "server_name went out as SNI");
    assert.ok(r.tls !== undefined);
    assert.match(r.tls!.version, /^TLSv1\.[23]$/);
    assert.match(r.tls!.cipher, /^TLS_/);
    if (r.tls!.version === "TLSv1.2") assert.match(r.tls!.cipher, /ECDSA/);
    assert.equal(r.tls!.alpn, "");
  });

  it("a server that sends its leaf without the chain, whose CA is trusted: accepted", async function () {
    // main serves pki.server's certificate alone (https.createServer's cert: the leaf, not a chain).
    assert.equal((pki.server.certPem.match(/BEGIN CERTIFICATE/g) ?? []).length, 1);
    await opens(config(tls12.port, { ca: pki.ca.certPem }));
  });

  it("takes the CA as DER, and several CAs as a list of PEM and DER mixed", async function () {
    await opens(config(main.port, { ca: hex(pki.ca.certDer) }));
    await opens(config(main.port, { ca: [pki.rogueCa.certPem, hex(pki.ca.certDer)] }));
    await opens(config(main.port, { ca: pki.rogueCa.certPem + pki.ca.certPem }));
  });

  it("a whole wss:// session: a 20 KB message echoed through 1 KiB buffers", async function () {
    const big = "0123456789abcdef".repeat(1280);
    await opens(config(main.port, { ca: pki.ca.certPem }, { rx_buffer_size: 1024, tx_buffer_size: 1024 }), big);
  });

  it("unknown CA: untrusted_ca, and no upgrade request was sent", async function () {
    const before = main.requests.length;
    await failsTls(config(main.port, { ca: pki.rogueCa.certPem }), "untrusted_ca");
    assert.equal(main.requests.length, before);
  });

  it("name mismatch: hostname_mismatch, for a certificate of another name and for a server_name the certificate lacks", async function () {
    await failsTls(config(otherName.port, { ca: pki.ca.certPem }), "hostname_mismatch");
    await failsTls(config(main.port, { ca: pki.ca.certPem, server_name: "elsewhere.example" }), "hostname_mismatch");
  });

  it("expired and not yet valid", async function () {
    await failsTls(config(expired.port, { ca: pki.ca.certPem }), "expired");
    await failsTls(config(notYetValid.port, { ca: pki.ca.certPem }), "not_yet_valid");
  });

  it("verify false accepts what it would refuse (an unknown CA, an expired certificate)", async function () {
    await opens(config(main.port, { ca: pki.rogueCa.certPem, verify: false }));
    await opens(config(expired.port, { verify: false }));
  });

  it("client certificate required: refused without one, accepted with the CA's (PEM, and DER), rejected from another CA", async function () {
    await failsTls(config(mtls12.port, { ca: pki.ca.certPem }), "client_cert_required");
    const before = mtls12.clientCns.length;
    await opens(config(mtls12.port, { ca: pki.ca.certPem, cert: pki.client.certPem, key: pki.client.keyPem }));
    await opens(config(mtls12.port, { ca: hex(pki.ca.certDer), cert: hex(pki.client.certDer), key: hex(pki.client.keyDer) }));
    assert.deepEqual(mtls12.clientCns.slice(before), ["websock test client", "websock test client"]);
    await failsTls(config(mtls12.port, { ca: pki.ca.certPem, cert: pki.rogueClient.certPem, key: pki.rogueClient.keyPem }), "client_cert_rejected");
  });

  it("pin_sha256: the server's SubjectPublicKeyInfo matches, the CA's does not; enforced with verify false too", async function () {
    await opens(config(main.port, { ca: pki.ca.certPem, pin_sha256: [pki.rogueCa.spkiSha256, pki.server.spkiSha256] }));
    const before = main.requests.length;
    await failsTls(config(main.port, { ca: pki.ca.certPem, pin_sha256: [pki.ca.spkiSha256] }), "pin_mismatch");
    await failsTls(config(main.port, { verify: false, pin_sha256: [pki.rogueCa.spkiSha256] }), "pin_mismatch");
    assert.equal(main.requests.length, before, "no upgrade request after a pin mismatch");
  });

  it("ALPN: the protocol chosen is reported; none in common fails with alpn_mismatch", async function () {
    const r = await opens(config(main.port, { ca: pki.ca.certPem, alpn: ["x-websock"] }));
    assert.equal(r.tls?.alpn, "x-websock");
    await failsTls(config(main.port, { ca: pki.ca.certPem, alpn: ["x-nothing"] }), "alpn_mismatch");
  });

  it("min_version TLSv1.2 against a TLS 1.2 server; TLSv1.3 where the linked mbedTLS lacks it is refused at open, naming the field", async function () {
    const r = await opens(config(tls12.port, { ca: pki.ca.certPem, min_version: "TLSv1.2" }));
    assert.equal(r.tls?.version, "TLSv1.2");
    const arrives = relay.nextReport<{ tls13: boolean }>(10000);
    await worker!.evaluate("XsTls.capabilities()");
    if ((await arrives).tls13) {
      await failsTls(config(tls12.port, { ca: pki.ca.certPem, min_version: "TLSv1.3" }), "protocol_version");
      const r13 = await opens(config(main.port, { ca: pki.ca.certPem, min_version: "TLSv1.3" }));
      assert.equal(r13.tls?.version, "TLSv1.3");
    } else {
      const refused = await open(config(tls12.port, { ca: pki.ca.certPem, min_version: "TLSv1.3" }));
      assert.equal(refused.opened, false);
      assert.equal(refused.error.name, "WEBSOCK_ERR_INVALID_ARG");
      assert.match(refused.error.message, /ssl_config\.min_version/);
    }
  });

  it("what the engine cannot do is refused at open, naming the field: verify without ssl_config.ca, an IP name on mbedTLS < 3.5", async function () {
    const noCa = await open(config(main.port, {}));
    assert.equal(noCa.error.name, "WEBSOCK_ERR_INVALID_ARG");
    assert.match(noCa.error.message, /ssl_config\.ca/);
    const arrives = relay.nextReport<{ ipNames: boolean }>(10000);
    await worker!.evaluate("XsTls.capabilities()");
    const byIp = await open(config(main.port, { ca: pki.ca.certPem, server_name: undefined }));
    if ((await arrives).ipNames) assert.ok(byIp.opened, JSON.stringify(byIp.error));
    else assert.match(byIp.error.message, /IP address/);
  });

  it("a malformed certificate or key fails the open with WEBSOCK_ERR_TLS, naming the field", async function () {
    const junk = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    const r = await failsTls(config(main.port, { ca: junk }), "bad_certificate");
    assert.match(r.error.message, /ssl_config\.ca/);
    const k = await failsTls(config(mtls12.port, { ca: pki.ca.certPem, cert: pki.client.certPem, key: hex(new Uint8Array([0x30, 3, 2, 1, 0])) }), "bad_certificate");
    assert.match(k.error.message, /ssl_config\.key/);
  });

  it("a server that does not speak TLS: handshake", async function () {
    await failsTls(config((plainTcp.address() as net.AddressInfo).port, { ca: pki.ca.certPem }), "handshake");
  });

  it(`${HANDSHAKES} handshakes in one worker, failed ones included, leave nothing behind`, async function () {
    this.timeout(600000);
    const configs = [
      config(main.port, { ca: pki.ca.certPem }),
      config(main.port, { ca: pki.rogueCa.certPem }),
      config(main.port, { ca: pki.ca.certPem, pin_sha256: [pki.ca.spkiSha256] }),
      config(mtls12.port, { ca: pki.ca.certPem, cert: pki.client.certPem, key: pki.client.keyPem }),
      config(mtls12.port, { ca: pki.ca.certPem }),
    ];
    const arrives = relay.nextReport<Record<string, number>>(590000);
    await worker!.evaluate(`XsTls.manyOpens(${JSON.stringify(JSON.stringify(configs))}, ${HANDSHAKES}, ${POLL_MS})`);
    const outcomes = await arrives;
    const each = HANDSHAKES / configs.length;
    assert.deepEqual(outcomes, {
      opened: 2 * each,
      "WEBSOCK_ERR_TLS/untrusted_ca": each,
      "WEBSOCK_ERR_TLS/pin_mismatch": each,
      "WEBSOCK_ERR_TLS/client_cert_required": each,
    });
    xsTally.assertions++;
    // The worker's exit (afterEach) is where LeakSanitizer reports, under WEBSOCK_TLS_ASAN=1.
  });
});
