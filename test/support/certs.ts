// A throwaway PKI for the TLS tests, made at test time with the openssl
// command (nothing that expires is checked in). One CA signs a server
// certificate for localhost and 127.0.0.1, an expired one, one not yet valid,
// one for another name and a client certificate; a second, untrusted CA signs
// a client certificate the servers must refuse.
//
// Validity dates are set with `openssl ca -startdate/-enddate`: OpenSSL 3.0's
// `x509 -req -days` cannot go into the past, and `-not_before` came in 3.4.

import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The openssl binary; OPENSSL overrides it. */
export const OPENSSL = process.env.OPENSSL ?? "/usr/bin/openssl";

/** One certificate and its private key, as text, bytes and files. */
export interface TestCert {
  certPem: string;
  /** The certificate as DER. */
  certDer: Uint8Array;
  certPath: string;
  /** The private key, PKCS#8 PEM. */
  keyPem: string;
  /** The private key, PKCS#8 DER. */
  keyDer: Uint8Array;
  keyPath: string;
  /** Base64 SHA-256 of the SubjectPublicKeyInfo, as openssl extracts it: a pin_sha256 entry. */
  spkiSha256: string;
}

export interface TestPki {
  /** The temporary directory holding every file; removed by cleanup(). */
  dir: string;
  /** The trusted CA (self-signed). */
  ca: TestCert;
  /** Signed by ca; SAN DNS:localhost, IP:127.0.0.1; valid now. */
  server: TestCert;
  /** Signed by ca; SAN DNS:localhost, IP:127.0.0.1; validity ended yesterday. */
  expired: TestCert;
  /** Signed by ca; SAN DNS:localhost, IP:127.0.0.1; validity starts tomorrow. */
  notYetValid: TestCert;
  /** Signed by ca; SAN DNS:other.example only. */
  otherName: TestCert;
  /** Signed by ca; extendedKeyUsage clientAuth. */
  client: TestCert;
  /** A second CA nobody trusts. */
  rogueCa: TestCert;
  /** Signed by rogueCa; extendedKeyUsage clientAuth. */
  rogueClient: TestCert;
  cleanup(): Promise<void>;
}

const DAY = 24 * 60 * 60 * 1000;

/** YYYYMMDDHHMMSSZ, what `openssl ca -startdate/-enddate` take. */
function asn1Time(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, "").replace(/\.\d+Z$/, "Z");
}

function pemBody(pem: string, label: string): Uint8Array {
  const m = new RegExp(`-----BEGIN ${label}-----([^-]+)-----END ${label}-----`).exec(pem);
  if (m === null) throw new Error(`no ${label} in PEM`);
  return new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ""), "base64"));
}

function caConfig(dir: string, name: string): string {
  const d = join(dir, name);
  return `
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ca ]
default_ca = this_ca
[ this_ca ]
database = ${d}.index.txt
new_certs_dir = ${d}.issued
serial = ${d}.serial
certificate = ${d}.crt
private_key = ${d}.key
default_md = sha256
policy = any_name
unique_subject = no
email_in_dn = no
[ any_name ]
commonName = supplied
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_other ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:other.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_client ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;
}

const pkiDirs = new Set<string>();
let exitHook = false;

/** Removes `dir` when the process exits, if cleanup() has not already. */
function removeAtExit(dir: string): void {
  if (!exitHook) {
    exitHook = true;
    process.once("exit", () => {
      for (const d of pkiDirs) rmSync(d, { recursive: true, force: true });
    });
  }
  pkiDirs.add(dir);
}

/** Makes the whole PKI into a new temporary directory (about a second). */
export async function makeTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), "websock-pki-"));
  // Private keys must not outlive the run, even one stopped by a timeout before its cleanup ran.
  removeAtExit(dir);
  const openssl = async (...args: string[]): Promise<string> => (await run(OPENSSL, args, { cwd: dir })).stdout;

  async function newKey(name: string): Promise<void> {
    await openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", join(dir, `${name}.key`));
  }

  async function load(name: string): Promise<TestCert> {
    const certPath = join(dir, `${name}.crt`);
    const keyPath = join(dir, `${name}.key`);
    const [certPem, keyPem, pubPem] = await Promise.all([
      readFile(certPath, "utf8"),
      readFile(keyPath, "utf8"),
      openssl("x509", "-in", certPath, "-noout", "-pubkey"),
    ]);
    return {
      certPem,
      certDer: pemBody(certPem, "CERTIFICATE"),
      certPath,
      keyPem,
      keyDer: pemBody(keyPem, "PRIVATE KEY"),
      keyPath,
      spkiSha256: createHash("sha256").update(pemBody(pubPem, "PUBLIC KEY")).digest("base64"),
    };
  }

  async function makeCa(name: string, cn: string): Promise<TestCert> {
    const cnf = join(dir, `${name}.cnf`);
    await writeFile(cnf, caConfig(dir, name));
    await writeFile(join(dir, `${name}.index.txt`), "");
    await writeFile(join(dir, `${name}.serial`), "1000\n");
    await mkdir(join(dir, `${name}.issued`));
    await newKey(name);
    await openssl("req", "-config", cnf, "-new", "-x509", "-key", join(dir, `${name}.key`), "-subj", `/CN=${cn}`,
      "-days", "2", "-sha256", "-extensions", "v3_ca", "-out", join(dir, `${name}.crt`));
    return load(name);
  }

  /** Issues a certificate with `openssl ca`, whose validity dates may lie in the past or the future. */
  async function issue(ca: string, name: string, cn: string, extensions: string, from: number, until: number): Promise<TestCert> {
    await newKey(name);
    const csr = join(dir, `${name}.csr`);
    await openssl("req", "-config", join(dir, `${ca}.cnf`), "-new", "-key", join(dir, `${name}.key`), "-subj", `/CN=${cn}`, "-out", csr);
    await openssl("ca", "-batch", "-notext", "-config", join(dir, `${ca}.cnf`), "-extensions", extensions,
      "-startdate", asn1Time(from), "-enddate", asn1Time(until), "-in", csr, "-out", join(dir, `${name}.crt`));
    return load(name);
  }

  try {
    const now = Date.now();
    const [ca, rogueCa] = await Promise.all([makeCa("ca", "websock test CA"), makeCa("rogue-ca", "websock rogue CA")]);
    // `openssl ca` appends to its database and serial file: one issue at a time per CA.
    const server = await issue("ca", "server", "localhost", "v3_server", now - DAY, now + DAY);
    const expired = await issue("ca", "expired", "localhost", "v3_server", now - 3 * DAY, now - DAY);
    const notYetValid = await issue("ca", "not-yet-valid", "localhost", "v3_server", now + DAY, now + 3 * DAY);
    const otherName = await issue("ca", "other-name", "other.example", "v3_other", now - DAY, now + DAY);
    const client = await issue("ca", "client", "websock test client", "v3_client", now - DAY, now + DAY);
    const rogueClient = await issue("rogue-ca", "rogue-client", "websock rogue client", "v3_client", now - DAY, now + DAY);
    return {
      dir, ca, server, expired, notYetValid, otherName, client, rogueCa, rogueClient,
      cleanup: async () => {
        await rm(dir, { recursive: true, force: true });
        pkiDirs.delete(dir);
      },
    };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
