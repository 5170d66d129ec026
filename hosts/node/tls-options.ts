// websock_ssl_config_t mapped onto Node's tls.connect options, and checked
// before anything is allocated (a malformed field is refused by name).

import { X509Certificate, createPrivateKey, createHash, type KeyObject } from "node:crypto";
import { isIP } from "node:net";
import type { ConnectionOptions, PeerCertificate, TLSSocket } from "node:tls";
import { checkServerIdentity } from "node:tls";
import type { websock_ssl_config_t } from "../../src/types.js";

const VERSIONS = ["TLSv1.2", "TLSv1.3"];

function derToPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith("\n") ? "" : "\n"}-----END ${label}-----\n`;
}

/** A certificate given as PEM text or DER bytes, as PEM; throws when it is not a certificate. */
function certificatePem(value: string | Uint8Array): string {
  const pem = typeof value === "string" ? value : derToPem(value, "CERTIFICATE");
  new X509Certificate(pem); // throws on anything malformed
  return pem;
}

function privateKey(value: string | Uint8Array): KeyObject {
  if (typeof value === "string") return createPrivateKey(value);
  return createPrivateKey({ key: Buffer.from(value), format: "der", type: "pkcs8" });
}

function caList(ssl: websock_ssl_config_t): Array<string | Uint8Array> {
  if (ssl.ca === undefined) return [];
  return Array.isArray(ssl.ca) ? ssl.ca : [ssl.ca];
}

/** Returns null when Node can honour `ssl`, or a message naming the field it cannot. */
export function checkSsl(ssl: websock_ssl_config_t): string | null {
  const cas = caList(ssl);
  for (let i = 0; i < cas.length; i++) {
    const ca = cas[i];
    const field = Array.isArray(ssl.ca) ? `ssl_config.ca[${i}]` : "ssl_config.ca";
    if (typeof ca !== "string" && !(ca instanceof Uint8Array)) return `${field} must be PEM text or DER bytes`;
    try {
      certificatePem(ca);
    } catch {
      return `${field} is not a valid certificate (PEM or DER)`;
    }
  }
  if (ssl.key !== undefined && ssl.cert === undefined) return "ssl_config.key is set without ssl_config.cert";
  if (ssl.cert !== undefined && ssl.key === undefined) return "ssl_config.cert is set without ssl_config.key";
  if (ssl.cert !== undefined) {
    try {
      certificatePem(ssl.cert);
    } catch {
      return "ssl_config.cert is not a valid certificate (PEM or DER)";
    }
    try {
      privateKey(ssl.key!);
    } catch {
      return "ssl_config.key is not a valid private key (PEM, or PKCS#8 DER)";
    }
  }
  if (ssl.server_name !== undefined && (typeof ssl.server_name !== "string" || ssl.server_name === "")) return "ssl_config.server_name must be a non-empty string";
  if (ssl.verify !== undefined && typeof ssl.verify !== "boolean") return "ssl_config.verify must be a boolean";
  if (ssl.alpn !== undefined && (!Array.isArray(ssl.alpn) || !ssl.alpn.every((p) => typeof p === "string" && p.length > 0 && p.length < 256))) {
    return "ssl_config.alpn must be a list of protocol names";
  }
  if (ssl.min_version !== undefined && !VERSIONS.includes(ssl.min_version)) return "ssl_config.min_version must be \"TLSv1.2\" or \"TLSv1.3\"";
  if (ssl.pin_sha256 !== undefined && (!Array.isArray(ssl.pin_sha256) || !ssl.pin_sha256.every((p) => typeof p === "string" && /^[A-Za-z0-9+/]{43}=$/.test(p)))) {
    return "ssl_config.pin_sha256 must be a list of base64 SHA-256 hashes (44 characters each)";
  }
  return null;
}

/** Base64 SHA-256 of the certificate's SubjectPublicKeyInfo: what pin_sha256 lists. */
export function publicKeyPin(cert: X509Certificate): string {
  const spki = cert.publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("base64");
}

/** The pin check for a connected socket: null when it passes (or there are no pins), else why not. */
export function checkPins(ssl: websock_ssl_config_t, socket: TLSSocket): string | null {
  if (ssl.pin_sha256 === undefined || ssl.pin_sha256.length === 0) return null;
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) return "the server sent no certificate to check against pin_sha256";
  const pin = publicKeyPin(cert);
  return ssl.pin_sha256.includes(pin) ? null : `the server's public key (sha256/${pin}) matches no pin_sha256 entry`;
}

export function tlsConnectOptions(hostname: string, port: number, ssl: websock_ssl_config_t): ConnectionOptions {
  const name = ssl.server_name ?? hostname;
  const options: ConnectionOptions = {
    host: hostname,
    port,
    // A certificate is verified unless verify is explicitly false.
    rejectUnauthorized: ssl.verify !== false,
    // SNI carries names only (RFC 6066 §3); an IP is verified against the certificate's IP SANs.
    servername: isIP(name) ? undefined : name,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(name, cert),
  };
  const cas = caList(ssl);
  if (cas.length > 0) options.ca = cas.map(certificatePem);
  if (ssl.cert !== undefined && ssl.key !== undefined) {
    options.cert = certificatePem(ssl.cert);
    options.key = privateKey(ssl.key).export({ type: "pkcs8", format: "pem" });
  }
  if (ssl.alpn !== undefined) options.ALPNProtocols = ssl.alpn;
  if (ssl.min_version !== undefined) options.minVersion = ssl.min_version;
  return options;
}

/** Node's TLS error codes to websock's tls_reason. */
export function tlsReason(code: string | undefined): string {
  switch (code) {
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "CERT_UNTRUSTED":
      return "untrusted_ca";
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return "hostname_mismatch";
    case "CERT_HAS_EXPIRED":
      return "expired";
    case "CERT_NOT_YET_VALID":
      return "not_yet_valid";
    case "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED":
      return "client_cert_required";
    case "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE":
    case "ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN":
    case "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA":
      return "client_cert_rejected";
    case "ERR_SSL_UNSUPPORTED_PROTOCOL":
    case "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION":
    case "ERR_SSL_NO_PROTOCOLS_AVAILABLE":
      return "protocol_version";
    case "WEBSOCK_PIN_MISMATCH":
      return "pin_mismatch";
    default:
      return "handshake";
  }
}
