// websock_ssl_config_t mapped onto Node's tls.connect options, checked before
// anything is allocated (what Node's TLS cannot use is refused by field; the
// shape of each field was checked by src/config.ts already), and Node's TLS
// errors mapped onto websock's tls_reason strings.

import { X509Certificate, createHash, createPrivateKey, type KeyObject } from "node:crypto";
import { isIP } from "node:net";
import { checkServerIdentity, createSecureContext, type ConnectionOptions, type PeerCertificate, type TLSSocket } from "node:tls";
import { TLS_REASON } from "../../src/errors.js";
import type { websock_ssl_config_t } from "../../src/types.js";

// The tls_reason words live in the one error table; re-exported for the host's modules.
export { TLS_REASON };

function derToPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith("\n") ? "" : "\n"}-----END ${label}-----\n`;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----/g;

/**
 * Certificates given as PEM text (one or more, a bundle or a chain) or DER
 * bytes (one), as PEM; throws when any of it is not a certificate.
 */
function certificatePem(value: string | Uint8Array): string {
  if (typeof value !== "string") {
    const pem = derToPem(value, "CERTIFICATE");
    new X509Certificate(pem); // throws on anything malformed
    return pem;
  }
  const blocks = value.match(PEM_CERT);
  if (blocks === null) throw new Error("no PEM certificate");
  // Text around the blocks is allowed (openssl writes "subject=..." and "Bag Attributes" there);
  // any other block, or a truncated one, is refused rather than skipped.
  if (/-----(BEGIN|END) /.test(value.replace(PEM_CERT, ""))) throw new Error("a PEM block that is not a whole certificate");
  for (const block of blocks) new X509Certificate(block);
  return value;
}

/** A private key as PEM text (unencrypted) or DER bytes (PKCS#8, SEC1 or PKCS#1). */
function privateKey(value: string | Uint8Array): KeyObject {
  if (typeof value === "string") return createPrivateKey(value);
  const der = Buffer.from(value);
  let first: unknown = null;
  for (const type of ["pkcs8", "sec1", "pkcs1"] as const) {
    try {
      return createPrivateKey({ key: der, format: "der", type });
    } catch (e) {
      first ??= e;
    }
  }
  throw first;
}

function caList(ssl: websock_ssl_config_t): Array<string | Uint8Array> {
  if (ssl.ca === undefined) return [];
  return Array.isArray(ssl.ca) ? ssl.ca : [ssl.ca];
}

/**
 * Returns null when Node can honour `ssl`, or a message naming the field it
 * cannot. `ssl` is the snapshot resolveConfig made: every field has its type
 * and shape (src/config.ts); what is left is what only Node's TLS can tell,
 * whether the certificates and the key parse, and whether they belong together.
 */
export function checkSsl(ssl: websock_ssl_config_t): string | null {
  if (ssl.tls_engine !== undefined) return `ssl_config.tls_engine "${ssl.tls_engine}" picks a Moddable TLS engine: the Node host uses Node's tls (omit it)`;
  const cas = caList(ssl);
  for (let i = 0; i < cas.length; i++) {
    try {
      certificatePem(cas[i]);
    } catch {
      return `${Array.isArray(ssl.ca) ? `ssl_config.ca[${i}]` : "ssl_config.ca"} is not a valid certificate (PEM or DER)`;
    }
  }
  if (ssl.cert !== undefined && ssl.key !== undefined) {
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(certificatePem(ssl.cert).match(PEM_CERT)![0]);
    } catch {
      return "ssl_config.cert is not a valid certificate (PEM or DER)";
    }
    let key: KeyObject;
    try {
      key = privateKey(ssl.key);
    } catch {
      return "ssl_config.key is not a valid private key (unencrypted PEM, or PKCS#8, SEC1 or PKCS#1 DER)";
    }
    if (!leaf.checkPrivateKey(key)) return "ssl_config.key does not match the public key of ssl_config.cert";
  }
  // Last, what Node itself would refuse when connecting (so it is refused here, by name, not later).
  try {
    createSecureContext(secureContextOptions(ssl));
  } catch (e) {
    return `ssl_config is refused by Node's TLS: ${e instanceof Error ? e.message : String(e)}`;
  }
  return null;
}

/** Base64 SHA-256 of the certificate's SubjectPublicKeyInfo: what pin_sha256 lists. */
export function publicKeyPin(cert: X509Certificate): string {
  const spki = cert.publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("base64");
}

/**
 * The pin check for a socket whose handshake just finished: null when it
 * passes (or nothing is pinned), else why not. Only the server's own (leaf)
 * key counts: with verify false nothing vouches for the rest of the chain it
 * sent, so matching a CA key there would let anyone who copies that CA
 * certificate through.
 */
export function checkPins(pins: readonly string[] | undefined, socket: TLSSocket): string | null {
  if (pins === undefined || pins.length === 0) return null;
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) return "the server sent no certificate to check against pin_sha256";
  const pin = publicKeyPin(cert);
  return pins.includes(pin) ? null : `the server's public key (sha256/${pin}) matches no pin_sha256 entry`;
}

/** The part of the options that does not depend on where we connect. */
function secureContextOptions(ssl: websock_ssl_config_t): ConnectionOptions {
  const options: ConnectionOptions = {};
  // No ca: Node's bundled CAs (its default), never "trust anything".
  const cas = caList(ssl);
  if (cas.length > 0) options.ca = cas.map(certificatePem);
  if (ssl.cert !== undefined && ssl.key !== undefined) {
    options.cert = certificatePem(ssl.cert);
    options.key = privateKey(ssl.key).export({ type: "pkcs8", format: "pem" });
  }
  if (ssl.min_version !== undefined) options.minVersion = ssl.min_version;
  return options;
}

export function tlsConnectOptions(hostname: string, port: number, ssl: websock_ssl_config_t): ConnectionOptions {
  const name = ssl.server_name ?? hostname;
  const options: ConnectionOptions = {
    ...secureContextOptions(ssl),
    host: hostname,
    port,
    // A certificate is verified unless verify is explicitly false (src/config.ts refuses non-booleans).
    rejectUnauthorized: ssl.verify !== false,
    // SNI carries names only (RFC 6066 §3); an IP is verified against the certificate's IP SANs.
    servername: isIP(name) ? undefined : name,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(name, cert),
  };
  if (ssl.alpn !== undefined && ssl.alpn.length > 0) options.ALPNProtocols = ssl.alpn.slice();
  return options;
}

/** Where the handshake had got to when it failed; see tlsReason. */
export interface HandshakeProgress {
  /** Keys were agreed: the server's hello was accepted (version, cipher) and our last flight, with our certificate, is sent. */
  keysAgreed: boolean;
  /** A client certificate was configured. */
  clientCert: boolean;
}

// X509_V_ERR names Node reports when the server's certificate fails verification.
const VERIFY_REASONS: ReadonlyMap<string, string> = new Map([
  ...["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "SELF_SIGNED_CERT_IN_CHAIN",
    "DEPTH_ZERO_SELF_SIGNED_CERT", "CERT_UNTRUSTED", "CERT_SIGNATURE_FAILURE", "INVALID_CA", "PATH_LENGTH_EXCEEDED"].map((c) => [c, TLS_REASON.UNTRUSTED_CA] as const),
  ["CERT_HAS_EXPIRED", TLS_REASON.EXPIRED],
  ["CERT_NOT_YET_VALID", TLS_REASON.NOT_YET_VALID],
  ...["CERT_REJECTED", "CERT_REVOKED", "INVALID_PURPOSE", "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY", "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
    "ERROR_IN_CERT_NOT_BEFORE_FIELD", "ERROR_IN_CERT_NOT_AFTER_FIELD", "UNSUPPORTED_EXTENSION_FEATURE", "INVALID_EXTENSION",
    "INVALID_NON_CA", "UNHANDLED_CRITICAL_EXTENSION", "KEY_USAGE_NO_CERTSIGN"].map((c) => [c, TLS_REASON.BAD_CERTIFICATE] as const),
  // Node's own identity check (checkServerIdentity).
  ["ERR_TLS_CERT_ALTNAME_INVALID", TLS_REASON.HOSTNAME_MISMATCH],
]);

// Alerts from the server about the certificate we sent (RFC 5246 §7.2.2, RFC 8446 §6.2), by
// their RFC names.
const CLIENT_CERT_ALERTS: ReadonlySet<string> = new Set([
  "BAD_CERTIFICATE",
  "UNSUPPORTED_CERTIFICATE",
  "CERTIFICATE_REVOKED",
  "CERTIFICATE_EXPIRED",
  "CERTIFICATE_UNKNOWN",
  "UNKNOWN_CA",
  "ACCESS_DENIED",
]);

/**
 * The RFC name of the alert a Node TLS error code carries ("HANDSHAKE_FAILURE"), or null.
 * Node makes the code from OpenSSL's reason text, whose prefix changes between
 * versions: "sslv3 alert handshake failure" (OpenSSL 3.0, ERR_SSL_SSLV3_ALERT_...)
 * became "ssl/tls alert handshake failure" (OpenSSL 3.5, ERR_SSL_SSL/TLS_ALERT_...);
 * "tlsv1 alert" and "tlsv13 alert" name the others. Only the alert's name is kept.
 */
function alertName(code: string): string | null {
  return /^ERR_SSL_[A-Z0-9/]*_ALERT_([A-Z0-9_]+)$/.exec(code)?.[1] ?? null;
}

const VERSION_ERRORS: ReadonlySet<string> = new Set([
  "ERR_SSL_UNSUPPORTED_PROTOCOL",
  "ERR_SSL_NO_PROTOCOLS_AVAILABLE",
  "ERR_SSL_WRONG_SSL_VERSION",
]);

/** True for error codes that come from TLS (an alert, a certificate check), at any point of a connection. */
export function isTlsErrorCode(code: string): boolean {
  return code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_") || VERIFY_REASONS.has(code);
}

/** Node's TLS error codes to websock's tls_reason. */
export function tlsReason(code: string, progress: HandshakeProgress): string {
  const verify = VERIFY_REASONS.get(code);
  if (verify !== undefined) return verify;
  if (VERSION_ERRORS.has(code)) return TLS_REASON.PROTOCOL_VERSION;
  const alert = alertName(code);
  // RFC 8446 §4.4.2.4: a server that requires a certificate and gets none sends certificate_required.
  if (alert === "CERTIFICATE_REQUIRED") return TLS_REASON.CLIENT_CERT_REQUIRED;
  // A complaint about a certificate we did not send means the server wants one.
  if (alert !== null && CLIENT_CERT_ALERTS.has(alert)) return progress.clientCert ? TLS_REASON.CLIENT_CERT_REJECTED : TLS_REASON.CLIENT_CERT_REQUIRED;
  // TLS 1.2 has no certificate_required: a server that gets no certificate, or one it
  // refuses, usually sends a bare handshake_failure. Once keys are agreed, that alert
  // answers our last flight, whose only optional part is the certificate.
  if (alert === "HANDSHAKE_FAILURE") {
    if (!progress.keysAgreed) return TLS_REASON.HANDSHAKE;
    return progress.clientCert ? TLS_REASON.CLIENT_CERT_REJECTED : TLS_REASON.CLIENT_CERT_REQUIRED;
  }
  if (alert === "PROTOCOL_VERSION") return TLS_REASON.PROTOCOL_VERSION;
  if (alert === "NO_APPLICATION_PROTOCOL") return TLS_REASON.ALPN_MISMATCH;
  return TLS_REASON.HANDSHAKE;
}
