// Moddable's TLS session ("ssl/session", modules/crypt/ssl/session_419.js in
// the Moddable SDK) has no typings, neither in @moddable/typings on npm nor in
// the SDK's own typings/ folder. This declares the part the Moddable host uses.
// It is referenced (/// <reference path>) by tls-transport.ts, so it is part of
// both type-checks: ours (tsconfig.json here) and mcconfig's per-module tsc.

declare module "ssl/session" {
  /** What the session reads from and writes to: the TCP socket with two counters the session keeps up to date. */
  export interface SessionSocket {
    /** Bytes the socket holds that the session has not read yet. */
    readable: number;
    /** Bytes the socket takes now. */
    writable: number;
    /** Fills `buffer` completely from the socket. */
    read(buffer: Uint8Array): unknown;
    /** Writes a whole TLS record; returns what the socket takes afterwards. */
    write(packet: ArrayBuffer | Uint8Array): number;
  }

  export interface CipherSuite {
    /** The suite's two-byte IANA code point. */
    value: [number, number];
  }

  export default class SSLSession {
    constructor(options: Record<string, unknown>);
    /** Client side: the next handshake() sends the ClientHello. */
    initiateHandshake(): void;
    /** One step of the handshake; true once it is over (finished, or an alert was received or sent: see `alert`). Throws on failure. */
    handshake(s: SessionSocket): boolean;
    /** The application data of the next whole record: undefined when none is complete yet, null after an alert (close_notify). Throws on failure. */
    read(s: SessionSocket): Uint8Array | null | undefined;
    /** Encrypts `data` (at most 16384 bytes) into one record and writes it. */
    write(s: SessionSocket, data: Uint8Array): number;
    /** Sends close_notify. */
    close(s: SessionSocket): void;
    /** The last alert received or raised: level 1 warning, 2 fatal; description per RFC 5246 §7.2. */
    alert?: { level: number; description: number };
    /** Set once the server's hello chose a suite. */
    chosenCipher?: CipherSuite;
    /** Present until the handshake finishes. */
    certificateManager?: { verify(certs: ArrayBuffer[], options: Record<string, unknown>): boolean };
  }
}

declare module "x509" {
  // Moddable's X.509 decoder (modules/crypt/etc/x509.js), untyped anywhere; the part tls-diagnosis.ts uses.
  interface X509Decoded {
    tbs: ArrayBuffer;
  }
  interface X509TBS {
    validity: { from: number; to: number };
  }
  interface X509Name {
    tag: number;
    value: string | ArrayBuffer;
  }
  const X509: {
    decode(der: ArrayBuffer | Uint8Array): X509Decoded;
    decodeTBS(tbs: ArrayBuffer): X509TBS;
    decodeSAN(der: ArrayBuffer | Uint8Array): X509Name[] | undefined;
  };
  export default X509;
}
