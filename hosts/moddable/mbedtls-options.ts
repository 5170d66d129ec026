// websock_ssl_config_t mapped onto websock's mbedTLS engine
// (hosts/moddable/mbedtls: websock_tls.c), and refused at open, by field,
// where the linked mbedTLS cannot honour it. The engine takes the whole
// struct: several CAs (PEM or DER, a PEM text may hold many), a client
// certificate chain with an RSA or EC key (PKCS#8, PKCS#1 or SEC1; PEM or
// DER), SNI and the name verified, verify, ALPN, min_version (TLS 1.3 where
// the linked mbedTLS has it), pin_sha256 on the server's
// SubjectPublicKeyInfo. What it cannot do:
//  - trust a default store: mbedTLS has none of its own here, so verify
//    without ssl_config.ca is refused;
//  - match an IP address against iPAddress names before mbedTLS 3.5;
//  - TLS 1.3 on mbedTLS 2.28.
// Parsing the certificates and the key is mbedTLS's, when the engine is
// made: what it cannot parse fails the open with WEBSOCK_ERR_TLS and the
// field's name.

import type { websock_ssl_config_t } from "websock/src/types";
import type { TlsEngineCapabilities } from "websock/hosts/moddable/mbedtls/tls-engine";
import { base64Decode, textBytes } from "websock/hosts/moddable/ssl-options";
import { isIPv4 } from "websock/src/hostname";

/** The engine constructor's flags (websock_tls.c: WS_TLS_VERIFY, WS_TLS_MIN_TLS13). */
export const ENGINE_VERIFY = 1;
export const ENGINE_MIN_TLS13 = 2;
/** websock_tls.c's limits. */
const MAX_ALPN = 8;
const MAX_PINS = 16;


/** The arguments of new TLSEngine(...), but the queue sizes. */
export interface EngineOptions {
  serverName: string;
  flags: number;
  cas: Uint8Array[] | undefined;
  cert: Uint8Array | undefined;
  key: Uint8Array | undefined;
  alpn: string[] | undefined;
  pins: Uint8Array | undefined;
}

/**
 * PEM text as its bytes (UTF-8: PEM is ASCII, and other text fails mbedTLS's parse either way); DER
 * (or PEM) bytes as they are. mbedTLS tells the two apart. textBytes() is one native call (a
 * charCodeAt per character was 4,500 slots of garbage per 1.2 KB certificate, twice per open).
 */
function bytesOf(value: string | Uint8Array): Uint8Array {
  if (value instanceof Uint8Array) return value;
  return textBytes(value);
}

/**
 * The engine's options for connecting to `hostname`, or a message naming
 * the field the linked mbedTLS cannot honour. `hostname` "" is a dry run
 * (checkSsl: the name is then the server_name, if any).
 */
export function engineOptions(ssl: websock_ssl_config_t, hostname: string, caps: TlsEngineCapabilities | null): EngineOptions | string {
  if (caps === null) return "ssl_config.tls_engine \"mbedtls\" cannot be honoured: this build has no mbedTLS engine (include hosts/moddable/mbedtls/manifest.json)";
  const verify = ssl.verify !== false;
  if (ssl.min_version === "TLSv1.3" && !caps.tls13) return `ssl_config.min_version "TLSv1.3" cannot be honoured: the linked ${caps.version} has no TLS 1.3`;
  if (verify && ssl.ca === undefined) {
    return "ssl_config.ca is required with the mbedTLS engine: it has no default trust store (give the CAs, or set tls_engine \"moddable\" to use the app's CA data)";
  }
  const name = ssl.server_name ?? hostname;
  if (name.includes(":")) return "an IPv6 server name cannot be verified on Moddable";
  if (verify && isIPv4(name) && !caps.ipNames) {
    return `the server name ${name} is an IP address, which ${caps.version} cannot match against the certificate (iPAddress names need mbedTLS 3.5): set ssl_config.server_name to a DNS name the certificate carries`;
  }
  let alpn: string[] | undefined;
  if (ssl.alpn !== undefined && ssl.alpn.length > 0) {
    if (!caps.alpn) return `ssl_config.alpn cannot be honoured: the linked ${caps.version} was built without ALPN`;
    if (ssl.alpn.length > MAX_ALPN) return `ssl_config.alpn: the mbedTLS engine offers at most ${MAX_ALPN} protocols`;
    if (!ssl.alpn.every((p) => /^[\x20-\x7e]+$/.test(p))) return "ssl_config.alpn must be printable ASCII names on Moddable";
    alpn = ssl.alpn.slice();
  }
  let pins: Uint8Array | undefined;
  if (ssl.pin_sha256 !== undefined) {
    if (ssl.pin_sha256.length > MAX_PINS) return `ssl_config.pin_sha256: the mbedTLS engine takes at most ${MAX_PINS} pins`;
    pins = new Uint8Array(32 * ssl.pin_sha256.length);
    for (let i = 0; i < ssl.pin_sha256.length; i++) {
      const digest = base64Decode(ssl.pin_sha256[i]);
      if (digest === null || digest.length !== 32) return `ssl_config.pin_sha256[${i}] is not a base64 SHA-256 digest`;
      pins.set(digest, 32 * i);
    }
  }
  let cas: Uint8Array[] | undefined;
  if (ssl.ca !== undefined) cas = (Array.isArray(ssl.ca) ? ssl.ca : [ssl.ca]).map(bytesOf);
  const withClient = ssl.cert !== undefined && ssl.key !== undefined;
  return {
    serverName: name,
    flags: (verify ? ENGINE_VERIFY : 0) | (ssl.min_version === "TLSv1.3" ? ENGINE_MIN_TLS13 : 0),
    cas,
    cert: withClient ? bytesOf(ssl.cert!) : undefined,
    key: withClient ? bytesOf(ssl.key!) : undefined,
    alpn,
    pins,
  };
}
