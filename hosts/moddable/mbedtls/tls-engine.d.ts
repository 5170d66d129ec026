// The types of tls-engine.js (websock's mbedTLS engine, websock_tls.c), and of
// none/tls-engine.js, its stand-in in builds without mbedTLS.

/** What the linked mbedTLS can do; null from the stand-in (no mbedTLS in this build). */
export interface TlsEngineCapabilities {
  /** "mbed TLS 2.28.3" */
  version: string;
  tls13: boolean;
  /** iPAddress subjectAltNames are matched (mbedTLS 3.5 and later). */
  ipNames: boolean;
  alpn: boolean;
  inContentLength: number;
  outContentLength: number;
  /** sizeof the engine's struct (its queues come on top). */
  engineSize: number;
}

/** Why it failed: mbedTLS's code, the certificate verify flags (MBEDTLS_X509_BADCERT_*), the fatal alert received (-1: none), a pin mismatch. */
export interface TlsEngineFailure {
  code: number;
  flags: number;
  alert: number;
  pin: boolean;
  /** The server asked for a client certificate: 1, 0, or -1 when unknown (2.28: a CertificateRequest was read; 3.x: inferred, 1 for a refusal after the client's last flight). */
  certificateRequested: number;
  /** mbedTLS's handshake state (mbedtls_ssl_states) when it failed. */
  state: number;
  message: string;
}

export default class TLSEngine {
  /** Throws (an Error naming the ssl_config field) when mbedTLS cannot take an option. */
  constructor(
    serverName: string,
    flags: number,
    cas: Array<Uint8Array | ArrayBuffer> | undefined,
    cert: Uint8Array | ArrayBuffer | undefined,
    key: Uint8Array | ArrayBuffer | undefined,
    alpn: string[] | undefined,
    pins: Uint8Array | undefined,
    queueSize: number,
    maxFragment: number,
  );
  /** 0 done, 1 waiting for bytes or room, < 0 failed (failure() says why). */
  handshake(): number;
  /** Ciphertext from the network: how many bytes were taken. */
  feed(bytes: Uint8Array, offset?: number, count?: number): number;
  /** How many bytes feed() takes now. */
  room(): number;
  /** The network stream ended. */
  end(): void;
  /** Ciphertext to send, into `into`: the count. */
  take(into: Uint8Array, offset?: number, count?: number): number;
  /** Ciphertext bytes waiting to be taken. */
  pending(): number;
  /** Plaintext into `into`: a count, 0 when none yet, -1 when the peer ended, < -1 an mbedTLS error. */
  read(into: Uint8Array, offset?: number, count?: number): number;
  /** Plaintext to send: the count taken (0: no room), or < 0 an mbedTLS error. */
  write(bytes: Uint8Array, offset?: number, count?: number): number;
  closeNotify(): number;
  failure(): TlsEngineFailure;
  /** Once open: the version, the IANA suite name, the ALPN protocol chosen ("" none). */
  info(): { version: string; cipher: string; alpn: string } | undefined;
  close(): void;
  static capabilities(): TlsEngineCapabilities | null;
}
