// websock_ssl_config_t mapped onto the options of Moddable's TLS session
// ("ssl/session", the TLS that ECMA-419 sockets use), and refused at open,
// by field, wherever that TLS cannot honour it. Nothing here is ignored
// quietly: a field Moddable's TLS cannot act on is an error, not a no-op.
//
// What Moddable's TLS (SDK 8.x, modules/crypt/ssl) can do, and so what this
// file accepts:
//  - TLS 1.2 only (the session is created with protocolVersion 0x303), so
//    min_version "TLSv1.3" is refused;
//  - one trusted CA certificate of the caller's (`certificate`, DER); without
//    one, the CA store built into the app as data (ca.ski + caN.der);
//  - `verify` (true unless false), `serverName` (SNI and the name checked
//    against the certificate's dNSName / IPv4 iPAddress SANs);
//  - a client certificate chain (`clientCertificates`, DER) with an RSA key in
//    PKCS#8 (`clientKey`, DER): its CertificateVerify signs with RSA only;
//  - ALPN (`applicationLayerProtocolNegotiation`).
// It has no public-key pinning (pin_sha256), and this host does not add it:
// refused.

import TextEncoder from "text/encoder";
import type { websock_ssl_config_t } from "websock/src/types";

/** The options handed to Moddable's SSLSession (see ssl/session_419.js and ssl/ssl_cert.js). */
export interface SessionOptions {
  serverName: string;
  protocolVersion: number;
  verify: boolean;
  /** One trusted CA certificate, DER. */
  certificate?: ArrayBuffer;
  /** The client's certificate chain, DER, leaf first. */
  clientCertificates?: ArrayBuffer[];
  /** The client's private key, PKCS#8 DER (RSA). */
  clientKey?: ArrayBuffer;
  applicationLayerProtocolNegotiation?: string[];
}

/** TLS 1.2, the only version Moddable's TLS speaks as a client. */
export const TLS_1_2 = 0x0303;

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * Text as its UTF-8 bytes (ASCII text: one byte per character), with one native call (Moddable's
 * text/encoder; xsnap's TextEncoder in the XS tests), not character by character: XS wraps a primitive
 * string in an object for each method looked up on it, and text.charCodeAt(i) per character left 4,000
 * to 4,500 slots of garbage for one 1.2 KB PEM certificate in the simulator.
 */
export function textBytes(text: string): Uint8Array {
  return new Uint8Array(new TextEncoder().encode(text));
}

// Each base64 digit's value by its character code; the text is read with textBytes().
const BASE64_VALUES: Uint8Array = (() => {
  const values = new Uint8Array(128);
  for (let i = 0; i < BASE64.length; i++) values[BASE64.charCodeAt(i)] = i;
  return values;
})();

/** Base64 text to bytes; null when it is not base64 (whitespace between groups allowed). */
export function base64Decode(text: string): Uint8Array | null {
  const clean = text.replace(/\s+/g, "");
  if (clean.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) return null;
  const pad = clean.endsWith("==") ? 2 : clean.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((clean.length / 4) * 3 - pad);
  // ASCII (the check above): one byte per character; "=" counts 0.
  const codes = textBytes(clean);
  let o = 0;
  for (let i = 0; i < codes.length; i += 4) {
    const n = (BASE64_VALUES[codes[i]] << 18) | (BASE64_VALUES[codes[i + 1]] << 12) | (BASE64_VALUES[codes[i + 2]] << 6) | BASE64_VALUES[codes[i + 3]];
    if (o < out.length) out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

interface PemBlock {
  label: string;
  der: Uint8Array;
}

/** The PEM blocks in `text`; null when a block is malformed or truncated. */
function pemBlocks(text: string): PemBlock[] | null {
  // A fresh RegExp per call, not a module constant: a preloaded module's
  // objects are frozen in flash, and replace() with a global RegExp writes its
  // lastIndex ("xsSet lastIndex: not writable" in the simulator); a preloaded
  // RegExp's runs also leak on Moddable's XS (websock/src/pattern.ts).
  const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END ([A-Z0-9 ]+)-----/g;
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    if (m[1] !== m[3]) return null;
    const der = base64Decode(m[2]);
    if (der === null || der.length === 0) return null;
    blocks.push({ label: m[1], der });
  }
  // Text around the blocks is allowed (openssl writes "subject=..." there); a stray marker is not.
  if (/-----(BEGIN|END) /.test(text.replace(PEM_BLOCK, ""))) return null;
  return blocks;
}

/** Reads one DER header at `at`: tag, where the content starts, and where the element ends; null when malformed. */
function derElement(der: Uint8Array, at: number, end: number): { tag: number; start: number; end: number } | null {
  if (at + 2 > end) return null;
  const tag = der[at];
  let len = der[at + 1];
  let start = at + 2;
  if (len & 0x80) {
    const count = len & 0x7f;
    if (count === 0 || count > 3 || start + count > end) return null;
    len = 0;
    for (let i = 0; i < count; i++) len = len * 256 + der[start + i];
    start += count;
  }
  if (start + len > end) return null;
  return { tag, start, end: start + len };
}

/** True when `der` is one whole DER SEQUENCE (the outer shape of a certificate or a key). */
function isDerSequence(der: Uint8Array): boolean {
  const outer = derElement(der, 0, der.length);
  return outer !== null && outer.tag === 0x30 && outer.end === der.length;
}

/** True when `der` looks like an X.509 certificate: SEQUENCE { SEQUENCE tbs, SEQUENCE alg, BIT STRING sig }. */
function isCertificate(der: Uint8Array): boolean {
  if (!isDerSequence(der)) return false;
  const outer = derElement(der, 0, der.length)!;
  const tbs = derElement(der, outer.start, outer.end);
  if (tbs === null || tbs.tag !== 0x30) return false;
  const alg = derElement(der, tbs.end, outer.end);
  if (alg === null || alg.tag !== 0x30) return false;
  const sig = derElement(der, alg.end, outer.end);
  return sig !== null && sig.tag === 0x03 && sig.end === outer.end;
}

// rsaEncryption, 1.2.840.113549.1.1.1, as its DER OBJECT IDENTIFIER.
const RSA_OID = Object.freeze([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]);

/** "rsa" for a PKCS#8 RSA key, "other" for PKCS#8 of another algorithm, null when it is not PKCS#8. */
function pkcs8Algorithm(der: Uint8Array): "rsa" | "other" | null {
  if (!isDerSequence(der)) return null;
  const outer = derElement(der, 0, der.length)!;
  const version = derElement(der, outer.start, outer.end);
  if (version === null || version.tag !== 0x02) return null;
  const alg = derElement(der, version.end, outer.end);
  if (alg === null || alg.tag !== 0x30) return null;
  const oid = derElement(der, alg.start, alg.end);
  if (oid === null || oid.tag !== 0x06) return null;
  const key = derElement(der, alg.end, outer.end);
  if (key === null || key.tag !== 0x04) return null;
  if (oid.end - (oid.start - 2) !== RSA_OID.length) return "other";
  for (let i = 0; i < RSA_OID.length; i++) if (der[oid.start - 2 + i] !== RSA_OID[i]) return "other";
  return "rsa";
}

/** The certificates in a PEM text or DER bytes, as DER; a message when they are not certificates. */
function certificates(value: string | Uint8Array, field: string): Uint8Array[] | string {
  if (value instanceof Uint8Array) {
    return isCertificate(value) ? [value] : `${field} is not a DER certificate`;
  }
  const blocks = pemBlocks(value);
  if (blocks === null || blocks.length === 0) return `${field} is not a PEM certificate`;
  const out: Uint8Array[] = [];
  for (const b of blocks) {
    if (b.label !== "CERTIFICATE" || !isCertificate(b.der)) return `${field} holds a PEM block that is not a certificate (${b.label})`;
    out.push(b.der);
  }
  return out;
}

/** The client key as PKCS#8 DER, or a message saying why Moddable's TLS cannot use it. */
function clientKey(value: string | Uint8Array): Uint8Array | string {
  let der: Uint8Array;
  if (value instanceof Uint8Array) der = value;
  else {
    const blocks = pemBlocks(value);
    if (blocks === null || blocks.length !== 1) return "ssl_config.key must hold exactly one PEM private key";
    const label = blocks[0].label;
    if (label === "ENCRYPTED PRIVATE KEY") return "ssl_config.key is encrypted: Moddable's TLS takes an unencrypted PKCS#8 key";
    if (label === "RSA PRIVATE KEY" || label === "EC PRIVATE KEY") {
      return `ssl_config.key is ${label === "RSA PRIVATE KEY" ? "PKCS#1" : "SEC1"} ("${label}"): Moddable's TLS takes PKCS#8 ("PRIVATE KEY"; openssl pkcs8 -topk8 -nocrypt converts it)`;
    }
    if (label !== "PRIVATE KEY") return `ssl_config.key is a PEM "${label}", not a private key`;
    der = blocks[0].der;
  }
  const alg = pkcs8Algorithm(der);
  if (alg === null) return "ssl_config.key is not a PKCS#8 private key: Moddable's TLS takes unencrypted PKCS#8 (openssl pkcs8 -topk8 -nocrypt converts it)";
  // ssl_handshake.js certificateVerify: "RSA" and "ECDHE_RSA" only; any other key fails mid-handshake.
  if (alg !== "rsa") return "ssl_config.key is not an RSA key: Moddable's TLS signs the client's CertificateVerify with RSA only";
  return der;
}

/** A fresh ArrayBuffer holding exactly `bytes` (Moddable's TLS keeps ArrayBuffers, not views). */
function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer as ArrayBuffer;
}

/**
 * Checks `ssl` before anything is allocated: null when Moddable's TLS can
 * honour every field, else a message naming the first field it cannot.
 * `ssl` is the snapshot resolveConfig made, each field of the right type and
 * shape (src/config.ts); what is refused here is what this platform cannot do.
 */
export function checkSsl(ssl: websock_ssl_config_t): string | null {
  const result = sessionOptions(ssl, "");
  return typeof result === "string" ? result : null;
}

/**
 * The SSLSession options for connecting to `hostname`, or a message naming
 * the field that cannot be honoured. `hostname` "" is a dry run (checkSsl).
 */
export function sessionOptions(ssl: websock_ssl_config_t, hostname: string): SessionOptions | string {
  if (ssl.min_version === "TLSv1.3") return "ssl_config.min_version \"TLSv1.3\" cannot be honoured: Moddable's TLS speaks TLS 1.2 only";
  if (ssl.pin_sha256 !== undefined) {
    return "ssl_config.pin_sha256 cannot be honoured: Moddable's TLS has no key pinning and the Moddable host does not add it (trust one CA with ssl_config.ca instead)";
  }
  const name = ssl.server_name ?? hostname;
  if (name.includes(":")) return "an IPv6 server name cannot be verified: Moddable's TLS matches IPv4 iPAddress names only";

  const options: SessionOptions = { serverName: name, protocolVersion: TLS_1_2, verify: ssl.verify !== false };

  if (ssl.ca !== undefined) {
    const list = Array.isArray(ssl.ca) ? ssl.ca : [ssl.ca];
    const ders: Uint8Array[] = [];
    for (let i = 0; i < list.length; i++) {
      const certs = certificates(list[i], Array.isArray(ssl.ca) ? `ssl_config.ca[${i}]` : "ssl_config.ca");
      if (typeof certs === "string") return certs;
      ders.push(...certs);
    }
    // ssl_cert.js registers one `certificate`; a second would be dropped, so it is refused.
    if (ders.length > 1) return `ssl_config.ca holds ${ders.length} certificates: Moddable's TLS trusts one CA certificate of the caller's (add others to the app's CA data instead)`;
    options.certificate = ownBuffer(ders[0]);
  }

  // src/config.ts saw to it that cert and key come together.
  if (ssl.cert !== undefined && ssl.key !== undefined) {
    const chain = certificates(ssl.cert, "ssl_config.cert");
    if (typeof chain === "string") return chain;
    const key = clientKey(ssl.key);
    if (typeof key === "string") return key;
    options.clientCertificates = chain.map(ownBuffer);
    options.clientKey = ownBuffer(key);
  }

  if (ssl.alpn !== undefined && ssl.alpn.length > 0) {
    // This host hands the names to Moddable's TLS as they are, and takes printable ASCII ones only (the registered names are).
    if (!ssl.alpn.every((p) => /^[\x20-\x7e]+$/.test(p))) return "ssl_config.alpn must be printable ASCII names on Moddable";
    options.applicationLayerProtocolNegotiation = ssl.alpn.slice();
  }
  return options;
}
