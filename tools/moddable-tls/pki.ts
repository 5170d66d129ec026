// The throwaway PKI of the simulator's TLS matrix (tools/moddable-tls/servers.ts),
// made at run time with the openssl command into a temporary directory that
// is removed when the servers stop: no private key outlives the run, none is
// committed. RSA 2048 throughout (Moddable's TLS verifies RSA only and signs
// its CertificateVerify with RSA only), but one ECDSA P-256 server leaf. The
// servers' leaves hang off an intermediate, as public servers' do: Moddable's
// TLS needs the leaf's issuer sent, and looks the last certificate sent up
// by its authorityKeyIdentifier (a self-signed root made by OpenSSL 3 has none).
//
//   root CA ─┬─ intermediate CA ─┬─ server         localhost, 127.0.0.1; valid now
//            │                   ├─ expired        validity ended yesterday
//            │                   ├─ notYetValid    validity starts tomorrow
//            │                   ├─ otherName      other.example only
//            │                   └─ ecdsa          P-256 key, localhost
//            ├─ direct           localhost, signed by the root itself
//            └─ client           clientAuth
//   rogue CA ── rogueClient      clientAuth, from a CA no server trusts
//
// Validity dates are set with `openssl ca -startdate/-enddate` (OpenSSL
// 3.0's `x509 -days` cannot go into the past), as test/support/certs.ts does.

import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const OPENSSL = process.env.OPENSSL ?? "/usr/bin/openssl";
const DAY = 24 * 60 * 60 * 1000;

export interface Cert {
  certPem: string;
  keyPem: string;
  /** Base64 SHA-256 of the SubjectPublicKeyInfo: a pin_sha256 entry. */
  spkiSha256: string;
}

export interface SimPki {
  dir: string;
  root: Cert;
  intermediate: Cert;
  rogue: Cert;
  server: Cert;
  expired: Cert;
  notYetValid: Cert;
  otherName: Cert;
  ecdsa: Cert;
  direct: Cert;
  client: Cert;
  rogueClient: Cert;
  cleanup(): Promise<void>;
}

/** YYYYMMDDHHMMSSZ, what `openssl ca -startdate/-enddate` take. */
function asn1Time(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, "").replace(/\.\d+Z$/, "Z");
}

function caConfig(d: string): string {
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
authorityKeyIdentifier = keyid
[ v3_server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_other ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
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

function pemBody(pem: string, label: string): Buffer {
  const m = new RegExp(`-----BEGIN ${label}-----([^-]+)-----END ${label}-----`).exec(pem);
  if (m === null) throw new Error(`no ${label} in PEM`);
  return Buffer.from(m[1].replace(/\s+/g, ""), "base64");
}

/** Makes the whole PKI (a few seconds: RSA keys). */
export async function makeSimPki(): Promise<SimPki> {
  const dir = await mkdtemp(join(tmpdir(), "websock-sim-pki-"));
  const openssl = async (...args: string[]): Promise<string> => (await run(OPENSSL, args, { cwd: dir })).stdout;

  async function newKey(name: string, ec: boolean): Promise<void> {
    const algorithm = ec ? ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"] : ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"];
    // PKCS#8 PEM, unencrypted: what both engines take as ssl_config.key.
    await openssl("genpkey", ...algorithm, "-out", join(dir, `${name}.key`));
  }

  async function load(name: string): Promise<Cert> {
    const certPath = join(dir, `${name}.crt`);
    const [certPem, keyPem, pubPem] = await Promise.all([
      readFile(certPath, "utf8"),
      readFile(join(dir, `${name}.key`), "utf8"),
      openssl("x509", "-in", certPath, "-noout", "-pubkey"),
    ]);
    const spkiSha256 = createHash("sha256").update(pemBody(pubPem, "PUBLIC KEY")).digest("base64");
    return { certPem, keyPem, spkiSha256 };
  }

  async function prepareCa(name: string): Promise<void> {
    await writeFile(join(dir, `${name}.cnf`), caConfig(join(dir, name)));
    await writeFile(join(dir, `${name}.index.txt`), "");
    await writeFile(join(dir, `${name}.serial`), "1000\n");
    await mkdir(join(dir, `${name}.issued`));
  }

  async function makeRoot(name: string, cn: string): Promise<Cert> {
    await prepareCa(name);
    await newKey(name, false);
    await openssl("req", "-config", join(dir, `${name}.cnf`), "-new", "-x509", "-key", join(dir, `${name}.key`), "-subj", `/CN=${cn}`,
      "-days", "2", "-sha256", "-extensions", "v3_ca", "-out", join(dir, `${name}.crt`));
    return load(name);
  }

  async function issue(ca: string, name: string, cn: string, extensions: string, from: number, until: number, ec = false): Promise<Cert> {
    await newKey(name, ec);
    const csr = join(dir, `${name}.csr`);
    await openssl("req", "-config", join(dir, `${ca}.cnf`), "-new", "-key", join(dir, `${name}.key`), "-subj", `/CN=${cn}`, "-out", csr);
    await openssl("ca", "-batch", "-notext", "-config", join(dir, `${ca}.cnf`), "-extensions", extensions,
      "-startdate", asn1Time(from), "-enddate", asn1Time(until), "-in", csr, "-out", join(dir, `${name}.crt`));
    return load(name);
  }

  try {
    const now = Date.now();
    const [root, rogue] = await Promise.all([makeRoot("root", "websock sim root CA"), makeRoot("rogue", "websock sim rogue CA")]);
    // `openssl ca` appends to its database and serial file: one issue at a time per CA.
    const intermediate = await issue("root", "intermediate", "websock sim intermediate CA", "v3_ca", now - DAY, now + DAY);
    const direct = await issue("root", "direct", "localhost", "v3_server", now - DAY, now + DAY);
    const client = await issue("root", "client", "websock sim client", "v3_client", now - DAY, now + DAY);
    await prepareCa("intermediate");
    const server = await issue("intermediate", "server", "localhost", "v3_server", now - DAY, now + DAY);
    const expired = await issue("intermediate", "expired", "localhost", "v3_server", now - 3 * DAY, now - DAY);
    const notYetValid = await issue("intermediate", "not-yet-valid", "localhost", "v3_server", now + DAY, now + 3 * DAY);
    const otherName = await issue("intermediate", "other-name", "other.example", "v3_other", now - DAY, now + DAY);
    const ecdsa = await issue("intermediate", "ecdsa", "localhost", "v3_server", now - DAY, now + DAY, true);
    const rogueClient = await issue("rogue", "rogue-client", "websock sim rogue client", "v3_client", now - DAY, now + DAY);
    return {
      dir, root, intermediate, rogue, server, expired, notYetValid, otherName, ecdsa, direct, client, rogueClient,
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
