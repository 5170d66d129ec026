/// <reference path="./typings/ssl-session.d.ts" />
// Why Moddable's TLS failed, as websock's tls_reason. Its certificate check
// says only "certificate: auth err" (and traces the cause), so the
// certificates the server sent are kept when the session checks them, and
// looked at again on failure: a certificate out of its validity, a name that
// does not match, else a chain that leads to no trusted CA.

import type SSLSession from "ssl/session";
import X509 from "x509";
import { TLS_REASON } from "websock/src/errors";
import type { TransportFailure } from "websock/src/host";

// The tls_reason words live in the one error table; re-exported for the host's modules.
export { TLS_REASON };

// RFC 5246 §7.2 and RFC 8446 §6.2 alert descriptions.
const ALERT_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 22: "record_overflow", 40: "handshake_failure",
  42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked", 45: "certificate_expired",
  46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied", 50: "decode_error",
  51: "decrypt_error", 70: "protocol_version", 71: "insufficient_security", 80: "internal_error", 86: "inappropriate_fallback",
  90: "user_canceled", 109: "missing_extension", 110: "unsupported_extension", 112: "unrecognized_name",
  116: "certificate_required", 120: "no_application_protocol",
});

// Alerts about the certificate the client sent (or did not send).
const CLIENT_CERT_ALERTS: readonly number[] = Object.freeze([42, 43, 44, 45, 46, 48, 49]);

/** A TLS alert as a failure: during the handshake WEBSOCK_ERR_TLS with a reason, after it WEBSOCK_ERR_IO. */
export function alertFailure(alert: { level: number; description: number }, where: string, handshake: boolean, clientCert = false): TransportFailure {
  const name = ALERT_NAMES[alert.description] ?? `alert ${alert.description}`;
  const message = `${where}: the server sent the TLS alert ${name} (${alert.description})`;
  if (!handshake) return { kind: "io", message };
  let reason: string = TLS_REASON.HANDSHAKE;
  if (alert.description === 116) reason = TLS_REASON.CLIENT_CERT_REQUIRED;
  else if (CLIENT_CERT_ALERTS.includes(alert.description)) reason = clientCert ? TLS_REASON.CLIENT_CERT_REJECTED : TLS_REASON.CLIENT_CERT_REQUIRED;
  else if (alert.description === 70) reason = TLS_REASON.PROTOCOL_VERSION;
  else if (alert.description === 120) reason = TLS_REASON.ALPN_MISMATCH;
  return { kind: "tls", message, tlsReason: reason };
}

/** Keeps the server's certificates as the session checks them, to say why the check failed. */
export class CertificateCheck {
  private readonly serverName: string;
  private readonly verify: boolean;
  private readonly clientCert: boolean;
  private certs: ArrayBuffer[] | null = null;

  constructor(serverName: string, verify: boolean, clientCert: boolean) {
    this.serverName = serverName.toLowerCase();
    this.verify = verify;
    this.clientCert = clientCert;
  }

  /** Wraps the session's certificate check (an own property: the preloaded prototype stays untouched). */
  attach(session: SSLSession): void {
    const manager = session.certificateManager;
    if (manager === undefined || !this.verify) return;
    const original = manager.verify;
    Object.defineProperty(manager, "verify", {
      value: (certs: ArrayBuffer[], options: Record<string, unknown>): boolean => {
        this.certs = certs;
        return original.call(manager, certs, options);
      },
    });
  }

  /** What a throw out of session.handshake() means. */
  failure(session: SSLSession, e: unknown, where: string): TransportFailure {
    const text = e instanceof Error ? e.message : String(e);
    if (session.alert !== undefined) return alertFailure(session.alert, where, true, this.clientCert);
    if (text.includes("certificate: auth err")) return this.certificateFailure(where);
    // ssl_cert.js's verify() skips a leaf out of its dates and can still pass the chain; its
    // register() then throws this: the dates say which (simulator, SDK 8.2.3, a leaf under an intermediate).
    if (text.includes("date validation failed")) return this.certificateFailure(where);
    if (text.includes("would block")) {
      return { kind: "tls", message: `${where}: a handshake message is larger than the socket takes at once (${text})`, tlsReason: TLS_REASON.HANDSHAKE };
    }
    return { kind: "tls", message: `${where}: the TLS handshake failed: ${text}`, tlsReason: TLS_REASON.HANDSHAKE };
  }

  private certificateFailure(where: string): TransportFailure {
    const certs = this.certs;
    if (certs === null || certs.length === 0) {
      return { kind: "tls", message: `${where}: the server's certificate was refused`, tlsReason: TLS_REASON.BAD_CERTIFICATE };
    }
    const now = Date.now();
    try {
      for (let i = 0; i < certs.length; i++) {
        const { from, to } = X509.decodeTBS(X509.decode(certs[i]).tbs).validity;
        const which = i === 0 ? "the server's certificate" : `certificate ${i} of the server's chain`;
        // Before 2020 the device clock is not set (no SNTP yet): every certificate looks "not yet valid".
        const clock = now < Date.UTC(2020, 0, 1) ? ` (the device clock reads ${new Date(now).toISOString()}: set it, e.g. with SNTP)` : "";
        if (now < from) return { kind: "tls", message: `${where}: ${which} is not valid until ${new Date(from).toISOString()}${clock}`, tlsReason: TLS_REASON.NOT_YET_VALID };
        if (now > to) return { kind: "tls", message: `${where}: ${which} expired on ${new Date(to).toISOString()}${clock}`, tlsReason: TLS_REASON.EXPIRED };
      }
      if (!this.nameMatches(certs[0])) {
        return { kind: "tls", message: `${where}: the server's certificate does not name ${this.serverName}`, tlsReason: TLS_REASON.HOSTNAME_MISMATCH };
      }
    } catch {
      return { kind: "tls", message: `${where}: the server's certificate could not be decoded`, tlsReason: TLS_REASON.BAD_CERTIFICATE };
    }
    if (certs.length === 1) {
      // ssl_cert.js (SDK 8.x) matches the name only inside its loop over issuer links, which a chain
      // of one certificate never enters: it refuses such a chain whoever signed it.
      return {
        kind: "tls",
        message: `${where}: the server sent its certificate without its issuer's, and Moddable's TLS refuses a chain of one certificate even when its CA is trusted: make the server send its chain (its CA certificate included), or the CA is not trusted`,
        tlsReason: TLS_REASON.UNTRUSTED_CA,
      };
    }
    return { kind: "tls", message: `${where}: the server's certificate chain does not lead to a trusted CA`, tlsReason: TLS_REASON.UNTRUSTED_CA };
  }

  /** The subjectAltName check of ssl_cert.js: dNSName (one leading "*." wildcard) or IPv4 iPAddress. */
  private nameMatches(der: ArrayBuffer): boolean {
    const name = this.serverName;
    for (const san of X509.decodeSAN(der) ?? []) {
      if (san.tag === 2 && typeof san.value === "string") {
        const pattern = san.value.toLowerCase();
        if (pattern === name) return true;
        const dot = name.indexOf(".");
        if (pattern.startsWith("*.") && !pattern.includes("*", 1) && dot > 0 && pattern.slice(1) === name.slice(dot)) return true;
      } else if (san.tag === 7 && san.value instanceof ArrayBuffer && san.value.byteLength === 4) {
        if (Array.from(new Uint8Array(san.value)).join(".") === name) return true;
      }
    }
    return false;
  }
}
