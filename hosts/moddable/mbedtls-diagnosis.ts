// Why websock's mbedTLS engine failed, as websock's tls_reason: the
// certificate verify flags tell untrusted, expired, not yet valid and name
// mismatch apart; the server's fatal alert tells the refusals of the
// client's certificate apart; a pin mismatch is the engine's own flag.

import type { TransportFailure } from "websock/src/host";
import type { TlsEngineFailure } from "websock/hosts/moddable/mbedtls/tls-engine";
import { TLS_REASON, alertFailure } from "websock/hosts/moddable/tls-diagnosis";

// mbedTLS's codes (the same in 2.28 and 3.x).
const ERR_X509_CERT_VERIFY_FAILED = -0x2700;
const ERR_SSL_FATAL_ALERT_MESSAGE = -0x7780;
const ERR_SSL_CONN_EOF = -0x7280;
const ERR_SSL_BAD_PROTOCOL_VERSION = -0x6e80;
const ERR_SSL_PEER_VERIFY_FAILED = -0x6e00;

// MBEDTLS_X509_BADCERT_* (x509.h).
const BADCERT_EXPIRED = 0x01;
const BADCERT_CN_MISMATCH = 0x04;
const BADCERT_NOT_TRUSTED = 0x08;
const BADCERT_FUTURE = 0x0200;

/** TLS alert handshake_failure (RFC 5246 §7.2.2): what a TLS 1.2 server answers a missing client certificate with. */
const ALERT_HANDSHAKE_FAILURE = 40;

function hex(code: number): string {
  return `-0x${(-code).toString(16).padStart(4, "0")}`;
}

/** The failure the engine recorded, as a TransportFailure of kind "tls" (during the handshake). */
export function engineFailure(f: TlsEngineFailure, where: string, clientCert: boolean): TransportFailure {
  const detail = `${f.message || "mbedTLS error"} (${hex(f.code)}, handshake state ${f.state})`;
  if (f.pin) return { kind: "tls", message: `${where}: the server's public key matches no ssl_config.pin_sha256 entry`, tlsReason: TLS_REASON.PIN_MISMATCH };
  if (f.code === ERR_X509_CERT_VERIFY_FAILED) {
    const flags = f.flags;
    if (flags & BADCERT_NOT_TRUSTED) return { kind: "tls", message: `${where}: the server's certificate chain does not lead to a trusted CA (ssl_config.ca)`, tlsReason: TLS_REASON.UNTRUSTED_CA };
    if (flags & BADCERT_EXPIRED) return { kind: "tls", message: `${where}: a certificate of the server's chain has expired`, tlsReason: TLS_REASON.EXPIRED };
    if (flags & BADCERT_FUTURE) {
      return { kind: "tls", message: `${where}: a certificate of the server's chain is not valid yet (is the device clock set?)`, tlsReason: TLS_REASON.NOT_YET_VALID };
    }
    if (flags & BADCERT_CN_MISMATCH) return { kind: "tls", message: `${where}: the server's certificate does not carry the name verified`, tlsReason: TLS_REASON.HOSTNAME_MISMATCH };
    return { kind: "tls", message: `${where}: the server's certificate was refused (verify flags 0x${flags.toString(16)})`, tlsReason: TLS_REASON.BAD_CERTIFICATE };
  }
  if (f.code === ERR_SSL_FATAL_ALERT_MESSAGE && f.alert >= 0) {
    // TLS 1.2: no certificate_required alert (RFC 8446 §4.4.2.4 added it); a server that asked for one and got none says handshake_failure.
    if (f.alert === ALERT_HANDSHAKE_FAILURE && f.certificateRequested === 1) {
      return {
        kind: "tls",
        message: `${where}: the server asked for a client certificate and refused the handshake ${clientCert ? "with the one given" : "without one (ssl_config.cert, ssl_config.key)"}`,
        tlsReason: clientCert ? TLS_REASON.CLIENT_CERT_REJECTED : TLS_REASON.CLIENT_CERT_REQUIRED,
      };
    }
    const failure = alertFailure({ level: 2, description: f.alert }, where, true, clientCert);
    failure.message += ` (handshake state ${f.state})`;
    return failure;
  }
  if (f.code === ERR_SSL_BAD_PROTOCOL_VERSION) return { kind: "tls", message: `${where}: no TLS version both sides accept: ${detail}`, tlsReason: TLS_REASON.PROTOCOL_VERSION };
  if (f.code === ERR_SSL_CONN_EOF && f.certificateRequested === 1) {
    // A server that asked for a certificate and hung up without an alert: Node's tls refuses a client certificate so.
    return {
      kind: "tls",
      message: `${where}: the server asked for a client certificate and closed the connection ${clientCert ? "after the one given (refused)" : "without one given (ssl_config.cert, ssl_config.key)"}`,
      tlsReason: clientCert ? TLS_REASON.CLIENT_CERT_REJECTED : TLS_REASON.CLIENT_CERT_REQUIRED,
    };
  }
  if (f.code === ERR_SSL_CONN_EOF) return { kind: "tls", message: `${where}: the server closed the connection during the TLS handshake`, tlsReason: TLS_REASON.HANDSHAKE };
  if (f.code === ERR_SSL_PEER_VERIFY_FAILED) return { kind: "tls", message: `${where}: ${detail}`, tlsReason: TLS_REASON.BAD_CERTIFICATE };
  return { kind: "tls", message: `${where}: the TLS handshake failed: ${detail}`, tlsReason: TLS_REASON.HANDSHAKE };
}

/** A failure after the handshake: the stream is over (WEBSOCK_ERR_IO), with what mbedTLS said. */
export function streamFailure(f: TlsEngineFailure, where: string): TransportFailure {
  if (f.code === ERR_SSL_FATAL_ALERT_MESSAGE && f.alert >= 0) return alertFailure({ level: 2, description: f.alert }, where, false);
  return { kind: "io", message: `${where}: TLS record rejected: ${f.message || "mbedTLS error"} (${hex(f.code)})` };
}
