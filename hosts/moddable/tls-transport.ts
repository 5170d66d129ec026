/// <reference path="./typings/ssl-session.d.ts" />
// wss:// on Moddable: the Transport over Moddable's TLS session (ssl/session,
// TLS 1.2) on an ECMA-419 TCP socket.
//
// Why not the SDK's TLS socket (examples/io/tcp/tlssocket, the module
// "embedded:io/socket/tcp/tls")? It runs the session inside the TCP socket's
// callbacks and its own timer, where a TLSError (an unknown CA, a failed
// signature, a fatal alert from the server) escapes into the native caller:
// the VM aborts ("XS abort: unhandled exception") instead of calling onError.
// Here every call into the session is ours and wrapped, so each failure
// becomes WEBSOCK_ERR_TLS (during the handshake) or WEBSOCK_ERR_IO (after it)
// with a reason, and the socket is closed.
//
// Reading: one TLS record is decrypted at a time, into `record`; the core
// copies from it. Records are decrypted only when the core has room, so
// a slow reader leaves bytes in the socket and the socket stops reading the
// network (backpressure), as with plain TCP.

import SSLSession, { type SessionSocket } from "ssl/session";
import type { Transport, TransportFailure, TransportHandlers } from "websock/src/host";
import type { SessionOptions } from "websock/hosts/moddable/ssl-options";
import { LATER_END, LATER_FAIL, LATER_REPORT_ERROR, SOCKET_CANCELLED, SocketTransport, later, type Socket419 } from "websock/hosts/moddable/socket";
import { CertificateCheck, TLS_REASON, alertFailure } from "websock/hosts/moddable/tls-diagnosis";

/** TLS 1.2 caps a record's plaintext at 2^14 bytes (RFC 5246 §6.2.1). */
const MAX_RECORD_DATA = 16384;
/** Room kept free in the socket for a record's header, IV, MAC and padding (AES-CBC with SHA-384 needs 85). */
const RECORD_OVERHEAD = 96;

const SUITE_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0x002f: "TLS_RSA_WITH_AES_128_CBC_SHA",
  0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA",
  0x003c: "TLS_RSA_WITH_AES_128_CBC_SHA256",
  0x003d: "TLS_RSA_WITH_AES_256_CBC_SHA256",
  0x009c: "TLS_RSA_WITH_AES_128_GCM_SHA256",
  0x0033: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
  0x0039: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
  0x0067: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
  0x009e: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
  0xc013: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
  0xc014: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
  0xc027: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
  0xc02f: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
  0xc02b: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
});

/** What the session reads and writes: the transport's socket, with the counters the session keeps (a class: no closures per connection). */
class SessionIo implements SessionSocket {
  readable = 0;
  writable = 0;
  private readonly transport: SocketTransport;

  constructor(transport: SocketTransport) {
    this.transport = transport;
  }

  read(buffer: Uint8Array): unknown {
    return (this.transport.socket as Socket419).read(buffer);
  }

  /** write(2) failed (the peer closed or reset the connection): nothing more goes out. */
  failed = false;

  write(packet: ArrayBuffer | Uint8Array): number {
    const left: unknown = (this.transport.socket as Socket419).write(packet);
    if (typeof left === "number") return left;
    // The simulator's write() answers undefined when write(2) failed; its onError waits until every byte
    // received was read, which a session stuck in its handshake never does: the transport fails now.
    this.failed = true;
    return 0;
  }
}

export class TlsTransport extends SocketTransport implements Transport {
  private readonly check: CertificateCheck;
  private readonly clientCert: boolean;
  private session: SSLSession | null = null;
  private readonly io: SessionIo = new SessionIo(this);
  private tcpUp = false;
  private handshaking = true;
  private blocked = false;
  /** The decrypted record being read, and how far. */
  private record: Uint8Array | null = null;
  private recordOffset = 0;
  /** The peer ended the stream (close_notify or FIN); onEnd follows once `record` is read. */
  private peerEnded = false;
  private details: { version: string; cipher: string; alpn: string } | null = null;

  /**
   * Connects to hostname:port, or (with `from`, an HTTP proxy's tunnel) runs
   * TLS to hostname over a socket already connected, taken over with
   * ECMA-419's `from`: its first onWritable starts the handshake, as a new
   * connection's does.
   */
  constructor(hostname: string, port: number, options: SessionOptions, handlers: TransportHandlers, from?: object) {
    super(hostname, port, handlers, from);
    this.clientCert = options.clientCertificates !== undefined;
    this.check = new CertificateCheck(options.serverName, options.verify, this.clientCert);
    try {
      // Session options are checked by ssl-options.ts; a CA outside its validity throws here ("date validation failed").
      this.session = new SSLSession({ ...options });
      this.session.initiateHandshake();
      this.check.attach(this.session);
    } catch (e) {
      const message = `${this.where()}: the TLS session could not be set up: ${errorText(e)}`;
      later(this, LATER_FAIL, { kind: "tls", message, tlsReason: TLS_REASON.BAD_CERTIFICATE });
    }
  }

  tlsHandshaking(): boolean {
    return this.tcpUp && this.handshaking && (this.bits & SOCKET_CANCELLED) === 0;
  }

  tlsInfo(): { version: string; cipher: string; alpn: string } | null {
    return this.details === null ? null : { ...this.details };
  }

  read(into: Uint8Array, start: number, end: number): number {
    let o = start;
    while (o < end && (this.bits & SOCKET_CANCELLED) === 0 && !this.handshaking) {
      const record = this.record;
      if (record === null) {
        if (this.peerEnded || !this.decryptNext()) break;
        continue;
      }
      const n = Math.min(end - o, record.length - this.recordOffset);
      into.set(record.subarray(this.recordOffset, this.recordOffset + n), o);
      o += n;
      this.recordOffset += n;
      if (this.recordOffset === record.length) this.record = null;
    }
    if (this.record === null && this.peerEnded && (this.bits & SOCKET_CANCELLED) === 0) {
      this.release();
      later(this, LATER_END, null);
    }
    return o - start;
  }

  write(bytes: Uint8Array): number {
    const session = this.session;
    if ((this.bits & SOCKET_CANCELLED) !== 0 || session === null) return bytes.length;
    let taken = 0;
    while (taken < bytes.length) {
      const room = Math.min(this.io.writable - RECORD_OVERHEAD, MAX_RECORD_DATA);
      if (room <= 0) break;
      const n = Math.min(bytes.length - taken, room);
      try {
        // The session encrypts into a record of its own: `bytes` is not kept.
        session.write(this.io, bytes.subarray(taken, taken + n));
        if (this.io.failed) throw new Error("the connection failed while writing (reset by the peer)");
      } catch (e) {
        const message = `${this.where()}: TLS write failed: ${errorText(e)}`;
        this.release();
        later(this, LATER_REPORT_ERROR, { kind: "io", message });
        return bytes.length;
      }
      taken += n;
    }
    if (taken < bytes.length) this.blocked = true;
    return taken;
  }

  close(): void {
    if (this.bits & SOCKET_CANCELLED) return;
    // close_notify (RFC 5246 §7.2.1), when the socket has room for it; then FIN.
    if (!this.handshaking && this.session !== null && this.io.writable > RECORD_OVERHEAD) {
      try {
        this.session.close(this.io);
      } catch {
        // the stream is ending either way
      }
    }
    this.release();
  }

  destroy(): void {
    this.release();
  }

  // ---- the socket's events (SocketTransport calls them only while not released) ----

  socketWritable(count: number): void {
    try {
      this.writable(count);
    } catch (e) {
      this.failThrown(e);
    }
  }

  socketReadable(count: number): void {
    try {
      this.readable(count);
    } catch (e) {
      this.failThrown(e);
    }
  }

  private writable(count: number): void {
    this.io.writable = count;
    if (this.bits & SOCKET_CANCELLED) return;
    if (!this.tcpUp) {
      this.tcpUp = true;
      this.handshake();
    } else if (this.handshaking) {
      this.handshake();
    } else if (this.blocked) {
      this.blocked = false;
      this.handlers.onWritable();
    }
  }

  private readable(count: number): void {
    this.io.readable = count;
    if (this.bits & SOCKET_CANCELLED) return;
    if (this.handshaking) this.handshake();
    // Application data may follow the server's Finished in the same read.
    if (!this.handshaking && (this.bits & SOCKET_CANCELLED) === 0 && this.io.readable > 0) this.handlers.onReadable();
  }

  /** The socket's onError: a failure to connect, a hang-up during the handshake, or the end of the stream. */
  socketEnded(): void {
    if (this.bits & SOCKET_CANCELLED) return;
    if (!this.tcpUp) {
      this.fail({ kind: "connect", message: `${this.where()}: the connection was refused or could not be established` });
    } else if (this.handshaking) {
      this.fail(this.hangUpFailure());
    } else {
      // A FIN without close_notify: the WebSocket close handshake, not TLS, says whether anything was lost.
      this.peerEnded = true;
      if (this.record === null) {
        this.release();
        this.handlers.onEnd();
      }
    }
  }

  /**
   * The server ended the connection during the handshake. ssl/session_419.js keeps `clientCerts` from
   * the server's CertificateRequest to the end of the handshake: a server that asked and hung up refused
   * the certificate given, or wanted one (Node's tls, TLS 1.2, closes so), as the mbedTLS engine reports.
   */
  private hangUpFailure(): TransportFailure {
    const asked = (this.session as unknown as { clientCerts?: unknown } | null)?.clientCerts !== undefined;
    if (!asked) return { kind: "tls", message: `${this.where()}: the server closed the connection during the TLS handshake`, tlsReason: TLS_REASON.HANDSHAKE };
    return {
      kind: "tls",
      message: `${this.where()}: the server asked for a client certificate and closed the connection ${this.clientCert ? "after the one given (refused)" : "without one given (ssl_config.cert, ssl_config.key)"}`,
      tlsReason: this.clientCert ? TLS_REASON.CLIENT_CERT_REJECTED : TLS_REASON.CLIENT_CERT_REQUIRED,
    };
  }

  // ---- the session ----

  /** Runs the handshake as far as the bytes at hand allow; on success, onConnect. */
  private handshake(): void {
    const session = this.session;
    if (session === null) return;
    for (;;) {
      let done: boolean;
      try {
        done = session.handshake(this.io);
      } catch (e) {
        this.fail(this.io.failed ? this.hangUpFailure() : this.check.failure(session, e, this.where()));
        return;
      }
      if (this.io.failed) {
        this.fail(this.hangUpFailure());
        return;
      }
      if (done) {
        // handshake() also returns true when an alert ended it (ssl/session_419.js).
        if (session.alert !== undefined) {
          this.fail(alertFailure(session.alert, this.where(), true, this.clientCert));
          return;
        }
        this.handshaking = false;
        const suite = session.chosenCipher?.value;
        const code = suite === undefined ? -1 : (suite[0] << 8) | suite[1];
        // The server's ALPN choice is not kept by Moddable's TLS: "" says unknown, not "none".
        this.details = { version: "TLSv1.2", cipher: SUITE_NAMES[code] ?? (code < 0 ? "" : `0x${code.toString(16).padStart(4, "0")}`), alpn: "" };
        this.handlers.onConnect();
        return;
      }
      // Waiting for bytes: nothing more to do until the socket has some.
      if ((session as unknown as { handshakeProcess: number }).handshakeProcess === -1 && this.io.readable === 0) return;
    }
  }

  /** Decrypts the next whole record into `record`; false when none is complete (or the stream failed or ended). */
  private decryptNext(): boolean {
    const session = this.session;
    if (session === null) return false;
    while (this.io.readable > 0) {
      let data: Uint8Array | null | undefined;
      try {
        data = session.read(this.io);
      } catch (e) {
        // A fatal alert from the server, or a record that fails its MAC: the stream is over.
        const failure = session.alert !== undefined ? alertFailure(session.alert, this.where(), false) : { kind: "io" as const, message: `${this.where()}: TLS record rejected: ${errorText(e)}` };
        this.release();
        later(this, LATER_REPORT_ERROR, failure);
        return false;
      }
      if (data === null) {
        // close_notify: the peer will send nothing more.
        this.peerEnded = true;
        return false;
      }
      if (data === undefined) return false;
      if (data.length > 0) {
        this.record = data;
        this.recordOffset = 0;
        return true;
      }
    }
    return false;
  }

  // ---- endings ----

  /** What a socket event threw (our code or the session): the stream fails instead of the VM aborting. */
  private failThrown(e: unknown): void {
    this.fail({ kind: this.handshaking ? "tls" : "io", message: `${this.where()}: ${errorText(e)}`, tlsReason: this.handshaking ? TLS_REASON.HANDSHAKE : undefined });
  }

  override release(): void {
    this.session = null;
    this.record = null;
    super.release();
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message || e.name : String(e);
}
