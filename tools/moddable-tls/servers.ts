// The TLS failure matrix for websock in the Moddable simulator: one Node tls
// server (https + ws, /echo) per case on 127.0.0.1, with certificates made at
// start (tools/moddable-tls/pki.ts, removed at exit), and a plain ws://
// control server that hands the simulator app (tools/moddable-tls-app) the
// cases, one text message each, then "END", and prints the RESULT lines the
// app sends back with what each engine was expected to report. It also
// writes the root CA to <PKI dir>/ca.der (DER) and <PKI dir>/ca-pem.pem (PEM),
// for an app that takes its CA as a data resource: examples/echo with
// WEBSOCK_CA=<PKI dir>/ca-pem ca=ca-pem.pem server_name=localhost
// url=wss://127.0.0.1:<trusted_ca's port>/echo.
//
//   npx tsx tools/moddable-tls/servers.ts [--port=9440] [--once] [--only=case,case]
//
// The control server is on --port, the case servers on the ports after it.
// --once: exit when the app has reported "DONE" (exit code 1 if an outcome
// differed from what was expected); --only: those cases only. Ctrl-C stops
// it and removes the keys. The app says "RUN <engine> <case>" before each
// case: when its connection ends before that case's RESULT (the simulator
// ended), the next run of the app is sent the cases with the engines already
// done, so it goes on from there, that case included; a case during which the
// simulator ends twice is recorded as "simulator_ended".
//
// Outcomes: "ok" (opened, echoed a message, closed), a tls_reason, or the
// error name when the open failed without one (a config the engine refuses
// fails the open with WEBSOCK_ERR_INVALID_ARG or _UNSUPPORTED). An expectation
// "fail" matches any failure; "-" means nothing is claimed (not run, or no
// claim in the README).

import https from "node:https";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { WebSocketServer } from "ws";
import { makeSimPki, type Cert, type SimPki } from "./pki.js";

/** What one case asks of the client (the app builds ssl_config from it). */
export interface ClientSide {
  ca?: string;
  cert?: string;
  key?: string;
  pin_sha256?: string[];
  alpn?: string[];
  verify?: boolean;
  min_version?: string;
}

export interface MatrixCase {
  name: string;
  port: number;
  server_name: string;
  client: ClientSide;
  expect: { mbedtls: string; moddable: string };
}

interface ServerSide {
  /** The chain sent, leaf first (PEM). */
  chain: Cert[];
  key: Cert;
  requestClientCert?: string;
  alpn?: string[];
  notTls?: boolean;
}

interface CaseDef {
  name: string;
  server: ServerSide;
  client: ClientSide;
  expect: { mbedtls: string; moddable: string };
}

function defineCases(pki: SimPki): CaseDef[] {
  const root = pki.root.certPem;
  // A leaf and its issuer, the intermediate: what public servers send.
  const chain = (leaf: Cert): ServerSide => ({ chain: [leaf, pki.intermediate], key: leaf });
  const plain = chain(pki.server);
  const withClientAuth = { ...plain, requestClientCert: root };
  return [
    { name: "trusted_ca", server: plain, client: { ca: root }, expect: { mbedtls: "ok", moddable: "ok" } },
    { name: "unknown_ca", server: plain, client: { ca: pki.rogue.certPem }, expect: { mbedtls: "untrusted_ca", moddable: "untrusted_ca" } },
    { name: "name_mismatch", server: chain(pki.otherName), client: { ca: root }, expect: { mbedtls: "hostname_mismatch", moddable: "hostname_mismatch" } },
    { name: "expired", server: chain(pki.expired), client: { ca: root }, expect: { mbedtls: "expired", moddable: "expired" } },
    { name: "not_yet_valid", server: chain(pki.notYetValid), client: { ca: root }, expect: { mbedtls: "not_yet_valid", moddable: "not_yet_valid" } },
    { name: "client_cert_required", server: withClientAuth, client: { ca: root }, expect: { mbedtls: "client_cert_required", moddable: "client_cert_required" } },
    { name: "client_cert_given", server: withClientAuth, client: { ca: root, cert: pki.client.certPem, key: pki.client.keyPem }, expect: { mbedtls: "ok", moddable: "ok" } },
    { name: "client_cert_other_ca", server: withClientAuth, client: { ca: root, cert: pki.rogueClient.certPem, key: pki.rogueClient.keyPem }, expect: { mbedtls: "client_cert_rejected", moddable: "client_cert_rejected" } },
    // An ECDSA P-256 leaf under an RSA intermediate: both verify it (ssl_cert.js of SDK 8.2.3 has ECDSA).
    { name: "ecdsa_server", server: chain(pki.ecdsa), client: { ca: root }, expect: { mbedtls: "ok", moddable: "ok" } },
    // The leaf alone, trusted when its issuer (the intermediate) is the client's CA; README: Moddable's TLS needs the chain sent.
    { name: "leaf_alone_issuer_trusted", server: { chain: [pki.server], key: pki.server }, client: { ca: pki.intermediate.certPem }, expect: { mbedtls: "ok", moddable: "untrusted_ca" } },
    // ... and not when only the root is: the chain cannot be built.
    { name: "leaf_alone_root_trusted", server: { chain: [pki.server], key: pki.server }, client: { ca: root }, expect: { mbedtls: "untrusted_ca", moddable: "untrusted_ca" } },
    // A leaf signed by the root, sent with the root (self-signed, no authorityKeyIdentifier): ssl_cert.js
    // compares the last certificate's missing AKI (Bin.comp(undefined)) and throws "invalid buffer".
    { name: "root_sent_in_chain", server: { chain: [pki.direct, pki.root], key: pki.direct }, client: { ca: root }, expect: { mbedtls: "ok", moddable: "handshake" } },
    { name: "pin_match", server: plain, client: { ca: root, pin_sha256: [pki.server.spkiSha256] }, expect: { mbedtls: "ok", moddable: "refused" } },
    { name: "pin_mismatch", server: plain, client: { ca: root, pin_sha256: [pki.rogue.spkiSha256] }, expect: { mbedtls: "pin_mismatch", moddable: "refused" } },
    { name: "alpn_chosen", server: { ...plain, alpn: ["x-websock", "http/1.1"] }, client: { ca: root, alpn: ["x-websock"] }, expect: { mbedtls: "ok", moddable: "ok" } },
    { name: "alpn_mismatch", server: { ...plain, alpn: ["x-other"] }, client: { ca: root, alpn: ["x-websock"] }, expect: { mbedtls: "alpn_mismatch", moddable: "alpn_mismatch" } },
    { name: "tls13_minimum", server: plain, client: { ca: root, min_version: "TLSv1.3" }, expect: { mbedtls: "refused", moddable: "refused" } },
    { name: "not_tls", server: { ...plain, notTls: true }, client: { ca: root }, expect: { mbedtls: "handshake", moddable: "handshake" } },
  ];
}

interface Running {
  port: number;
  stop(): Promise<void>;
}

/** Listens on 127.0.0.1:port; rejects when it cannot (a port in use), so that the keys are still removed. */
function listen(server: net.Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** An https server whose upgrades to /echo echo every message; or a TCP server that answers in plain HTTP. */
async function startCaseServer(side: ServerSide, port: number): Promise<Running> {
  if (side.notTls) {
    const server = net.createServer((s) => {
      s.on("error", () => {});
      s.once("data", () => s.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
    });
    await listen(server, port);
    return { port: (server.address() as AddressInfo).port, stop: () => new Promise<void>((r) => server.close(() => r())) };
  }
  const server = https.createServer({
    key: side.key.keyPem,
    cert: side.chain.map((c) => c.certPem).join(""),
    ...(side.requestClientCert ? { requestCert: true, rejectUnauthorized: true, ca: side.requestClientCert } : {}),
    ...(side.alpn ? { ALPNProtocols: side.alpn } : {}),
  });
  // TLS failures are the client's to report; the server only goes on.
  server.on("tlsClientError", () => {});
  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    socket.on("error", () => {});
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on("error", () => {});
      ws.on("message", (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    });
  });
  await listen(server, port);
  return {
    port: (server.address() as AddressInfo).port,
    stop: () => new Promise<void>((r) => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

function matches(expected: string, got: string): boolean | null {
  if (expected === "-") return null;
  if (expected === "fail") return got !== "ok";
  return expected === got;
}

async function main(): Promise<void> {
  const portArg = process.argv.find((a) => a.startsWith("--port="));
  const controlPort = portArg ? Number(portArg.slice("--port=".length)) : 9440;
  const once = process.argv.includes("--once");
  const onlyArg = process.argv.find((a) => a.startsWith("--only="));
  const only = onlyArg ? onlyArg.slice("--only=".length).split(",") : null;
  const pki = await makeSimPki();
  const running: Running[] = [];
  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await Promise.all(running.map((r) => r.stop()));
    await pki.cleanup();
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(130));
  process.on("SIGTERM", () => void stop(143));
  try {
    const der = /-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/.exec(pki.root.certPem)![1];
    await writeFile(join(pki.dir, "ca.der"), Buffer.from(der.replace(/\s+/g, ""), "base64"));
    await writeFile(join(pki.dir, "ca-pem.pem"), pki.root.certPem);
    const defs = defineCases(pki);
    const cases: MatrixCase[] = [];
    for (let i = 0; i < defs.length; i++) {
      const d = defs[i];
      if (only !== null && !only.includes(d.name)) continue;
      const r = await startCaseServer(d.server, controlPort + 1 + i);
      running.push(r);
      cases.push({ name: d.name, port: r.port, server_name: "localhost", client: d.client, expect: d.expect });
    }
    const expectations = new Map(cases.map((c) => [c.name, c.expect]));
    const control = new WebSocketServer({ host: "127.0.0.1", port: controlPort });
    await new Promise<void>((resolve, reject) => {
      control.once("error", reject);
      control.once("listening", () => resolve());
    });
    running.push({ port: controlPort, stop: () => new Promise<void>((r) => { for (const c of control.clients) c.terminate(); control.close(() => r()); }) });
    let differed = 0;
    /** engine/case → the outcome reported, in the order reported. */
    const outcomes = new Map<string, string>();
    /** engine/case → how many runs of the app ended during it. */
    const crashes = new Map<string, number>();
    const record = (line: string, engine: string, name: string, outcome: string): void => {
      const expected = expectations.get(name)?.[engine as "mbedtls" | "moddable"] ?? "-";
      const verdict = matches(expected, outcome);
      if (verdict === false) differed++;
      outcomes.set(`${engine}/${name}`, outcome);
      console.log(`${line}  [expected ${expected}${verdict === null ? "" : verdict ? ": as expected" : ": DIFFERS"}]`);
    };
    control.on("connection", (ws, req) => {
      ws.on("error", () => {});
      // The app's plain ws:// connection for the memory baseline: nothing is sent on it.
      if (req.url === "/baseline") return;
      // A run after one that ended the simulator goes on from where that one stopped.
      for (const c of cases) {
        const done = ["mbedtls", "moddable"].filter((engine) => outcomes.has(`${engine}/${c.name}`));
        ws.send(JSON.stringify({ ...c, done }));
      }
      ws.send("END");
      let inFlight: { engine: string; name: string } | null = null;
      let finished = false;
      ws.on("message", (data) => {
        const line = data.toString();
        const run = /^RUN (mbedtls|moddable) (\S+)$/.exec(line);
        if (run !== null) {
          inFlight = { engine: run[1], name: run[2] };
          return;
        }
        // "RESULT <engine> <case> <outcome> ...": the outcome beside what was expected.
        const m = /^RESULT (mbedtls|moddable) (\S+) (\S+)/.exec(line);
        if (m !== null) {
          inFlight = null;
          record(line, m[1], m[2], m[3]);
        } else console.log(line);
        if (line === "DONE") {
          finished = true;
          summarize();
          if (once) void stop(differed === 0 ? 0 : 1);
        }
      });
      ws.on("close", () => {
        // The app's connection ended in the middle of a case: the simulator ended (a crash, an abort).
        // The case is tried once more by the next run; ending the simulator twice is its outcome.
        if (!finished && inFlight !== null) {
          const { engine, name } = inFlight;
          const key = `${engine}/${name}`;
          const times = (crashes.get(key) ?? 0) + 1;
          crashes.set(key, times);
          console.log(`SIMULATOR ENDED during ${engine} ${name} (${times})`);
          if (times >= 2) record(`RESULT ${engine} ${name} simulator_ended the simulator ended during this case twice`, engine, name, "simulator_ended");
        }
      });
    });
    const summarize = (): void => {
      console.log("\n| case | mbedtls | moddable |\n|---|---|---|");
      for (const c of cases) console.log(`| ${c.name} | ${outcomes.get(`mbedtls/${c.name}`) ?? "-"} | ${outcomes.get(`moddable/${c.name}`) ?? "-"} |`);
      console.log(differed === 0 ? "matrix: every outcome as expected" : `matrix: ${differed} outcome(s) differ from the expectation`);
    };
    console.log(`control ws://127.0.0.1:${controlPort}/; ${cases.length} case servers on ${cases[0].port}-${cases[cases.length - 1].port}; PKI in ${pki.dir}`);
  } catch (e) {
    console.error(e);
    await stop(1);
  }
}

await main();
