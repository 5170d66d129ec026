// wss:// on Moddable through websock's mbedTLS engine (hosts/moddable/mbedtls):
// the Transport over an ECMA-419 TCP socket, the TLS done by an
// mbedtls_ssl_context that moves bytes, not a socket. This class only moves
// them: ciphertext the socket read is fed to the engine, ciphertext the
// engine made is written to the socket; plaintext is read from the engine
// straight into the core's rx buffer, and written from the core's tx buffer.
//
// Memory: the engine (one calloc: its struct and two QUEUE_SIZE queues, then
// mbedTLS's own buffers) and one `scratch` array the socket is read into and
// written from, all made once per connection. Nothing per message.
//
// Backpressure: bytes are taken from the socket only while the engine's in
// queue has room, and the engine decrypts only when the core reads, so a slow
// reader leaves bytes in the socket and the socket stops reading the network,
// as with plain TCP.

import TLSEngine from "websock/hosts/moddable/mbedtls/tls-engine";
import type { Transport, TransportHandlers } from "websock/src/host";
import type { EngineOptions } from "websock/hosts/moddable/mbedtls-options";
import { LATER_END, LATER_FAIL, LATER_REPORT_ERROR, SOCKET_CANCELLED, SocketTransport, later, type Socket419 } from "websock/hosts/moddable/socket";
import { engineFailure, streamFailure } from "websock/hosts/moddable/mbedtls-diagnosis";
import { TLS_REASON } from "websock/hosts/moddable/tls-diagnosis";

/** Each of the engine's two ciphertext queues; the socket's scratch array is as long. */
export const QUEUE_SIZE = 2048;

export class MbedTlsTransport extends SocketTransport implements Transport {
  private engine: TLSEngine | null = null;
  private readonly clientCert: boolean;
  private readonly scratch = new Uint8Array(QUEUE_SIZE);
  private tcpUp = false;
  private handshaking = true;
  /** Bytes waiting in the socket, and what it takes now. */
  private readableCount = 0;
  private writableCount = 0;
  /** A plaintext write came up short: onWritable is owed. */
  private blocked = false;
  private details: { version: string; cipher: string; alpn: string } | null = null;

  /** `from`: a connected ECMA-419 socket to take over (an HTTP proxy's tunnel, Host.startTls). */
  constructor(hostname: string, port: number, options: EngineOptions, handlers: TransportHandlers, from?: object) {
    super(hostname, port, handlers, from);
    this.clientCert = options.cert !== undefined;
    try {
      this.engine = new TLSEngine(options.serverName, options.flags, options.cas, options.cert, options.key, options.alpn, options.pins, QUEUE_SIZE, 0);
    } catch (e) {
      // What mbedTLS could not parse, by field (websock_tls.c names it).
      later(this, LATER_FAIL, { kind: "tls", message: `${this.where()}: ${errorText(e)}`, tlsReason: TLS_REASON.BAD_CERTIFICATE });
    }
  }

  tlsHandshaking(): boolean {
    return this.tcpUp && this.handshaking && (this.bits & SOCKET_CANCELLED) === 0;
  }

  tlsInfo(): { version: string; cipher: string; alpn: string } | null {
    return this.details === null ? null : { ...this.details };
  }

  read(into: Uint8Array, start: number, end: number): number {
    const engine = this.engine;
    if (engine === null || (this.bits & SOCKET_CANCELLED) !== 0 || this.handshaking) return 0;
    let o = start;
    while (o < end) {
      const n = engine.read(into, o, end - o);
      if (n > 0) {
        o += n;
        continue;
      }
      if (n === 0) {
        // Nothing whole in the engine: more ciphertext from the socket, if it has some.
        if (this.pull() > 0) continue;
        break;
      }
      if (n === -1) {
        // close_notify or FIN: the core gets what was read, then the end.
        this.release();
        later(this, LATER_END, null);
        break;
      }
      const failure = streamFailure(engine.failure(), this.where());
      this.release();
      later(this, LATER_REPORT_ERROR, failure);
      break;
    }
    // A read may have made the engine answer (a TLS 1.3 key update, an alert): send it.
    if (!(this.bits & SOCKET_CANCELLED)) this.flush();
    return o - start;
  }

  write(bytes: Uint8Array): number {
    const engine = this.engine;
    if ((this.bits & SOCKET_CANCELLED) !== 0 || engine === null) return bytes.length;
    let taken = 0;
    while (taken < bytes.length) {
      const n = engine.write(bytes, taken, bytes.length - taken);
      if (n < 0) {
        const failure = streamFailure(engine.failure(), this.where());
        this.release();
        later(this, LATER_REPORT_ERROR, failure);
        return bytes.length;
      }
      taken += n;
      // The queue drains into the socket; nothing drains and nothing was taken: wait for onWritable.
      const sent = this.flush();
      if (this.bits & SOCKET_CANCELLED) return bytes.length;
      if (n === 0 && sent === 0) break;
    }
    if (taken < bytes.length) this.blocked = true;
    return taken;
  }

  close(): void {
    if (this.bits & SOCKET_CANCELLED) return;
    // close_notify (RFC 5246 §7.2.1; RFC 8446 §6.1), as far as the socket takes it; then FIN.
    if (!this.handshaking && this.engine !== null) {
      this.engine.closeNotify();
      this.flush();
    }
    this.release();
  }

  destroy(): void {
    this.release();
  }

  // ---- the socket's events (SocketTransport calls them only while not released) ----

  socketWritable(count: number): void {
    this.writableCount = count;
    if (!this.tcpUp) {
      this.tcpUp = true;
      this.advance();
      return;
    }
    this.flush();
    if (this.bits & SOCKET_CANCELLED) return;
    if (this.handshaking) this.advance();
    else if (this.blocked) {
      this.blocked = false;
      this.handlers.onWritable();
    }
  }

  socketReadable(count: number): void {
    this.readableCount = count;
    if (this.handshaking) {
      this.advance();
      // Application data may follow the server's Finished in the same read.
      if ((this.bits & SOCKET_CANCELLED) !== 0 || this.handshaking) return;
    }
    this.handlers.onReadable();
  }

  /** The socket's onError: a failure to connect, or the end of the stream (every byte read by then). */
  socketEnded(): void {
    if (!this.tcpUp) {
      this.fail({ kind: "connect", message: `${this.where()}: the connection was refused or could not be established` });
      return;
    }
    this.engine?.end();
    if (this.handshaking) {
      // mbedTLS sees the end of file: a failure that says what it was reading.
      this.advance();
      if ((this.bits & SOCKET_CANCELLED) === 0 && this.handshaking) {
        this.fail({ kind: "tls", message: `${this.where()}: the server closed the connection during the TLS handshake`, tlsReason: TLS_REASON.HANDSHAKE });
      }
      return;
    }
    // A FIN without close_notify: what the engine still holds is read first; read() then reports the end.
    this.handlers.onReadable();
  }

  // ---- the bytes ----

  /** Runs the handshake as far as the bytes at hand allow; on success onConnect, on failure onError. */
  private advance(): void {
    const engine = this.engine;
    if (engine === null || (this.bits & SOCKET_CANCELLED) !== 0) return;
    for (;;) {
      const r = engine.handshake();
      this.flush();
      if (this.bits & SOCKET_CANCELLED) return;
      if (r === 0) {
        this.handshaking = false;
        this.details = engine.info() ?? null;
        this.handlers.onConnect();
        return;
      }
      if (r < 0) {
        this.fail(engineFailure(engine.failure(), this.where(), this.clientCert));
        return;
      }
      // Waiting: go on only if the socket has bytes the engine has not seen.
      if (this.pull() === 0) return;
    }
  }

  /** Moves what the socket has (as far as the engine's queue has room) into the engine; returns the count. */
  private pull(): number {
    const engine = this.engine;
    const socket = this.socket as Socket419 | null;
    if (engine === null || socket === null || this.readableCount <= 0) return 0;
    const n = Math.min(this.readableCount, engine.room(), this.scratch.length);
    if (n <= 0) return 0;
    try {
      socket.read(n === this.scratch.length ? this.scratch : this.scratch.subarray(0, n));
    } catch (e) {
      this.failLater(`${this.where()}: read failed: ${errorText(e)}`);
      return 0;
    }
    this.readableCount -= n;
    engine.feed(this.scratch, 0, n);
    return n;
  }

  /** Writes the engine's ciphertext to the socket as far as it takes it; returns the count. */
  private flush(): number {
    const engine = this.engine;
    const socket = this.socket as Socket419 | null;
    if (engine === null || socket === null) return 0;
    let sent = 0;
    while (this.writableCount > 0 && engine.pending() > 0) {
      const n = engine.take(this.scratch, 0, Math.min(this.writableCount, this.scratch.length));
      let left: unknown;
      try {
        // The socket copies (lwIP's TCP_WRITE_FLAG_COPY; write(2) in the simulator).
        left = socket.write(n === this.scratch.length ? this.scratch : this.scratch.subarray(0, n));
      } catch (e) {
        this.failLater(`${this.where()}: write failed: ${errorText(e)}`);
        return sent;
      }
      // The simulator's write() answers undefined when write(2) failed (a reset).
      if (typeof left !== "number") {
        this.failLater(`${this.where()}: the connection failed while writing (reset by the peer)`);
        return sent;
      }
      this.writableCount = left;
      sent += n;
    }
    return sent;
  }

  /** A failure found inside a call of the core's: reported on a later turn, never inside it. */
  private failLater(message: string): void {
    const handshaking = this.handshaking;
    this.release();
    later(this, LATER_REPORT_ERROR, handshaking ? { kind: "tls", message, tlsReason: TLS_REASON.HANDSHAKE } : { kind: "io", message });
  }

  override release(): void {
    const engine = this.engine;
    this.engine = null;
    // The C side is freed now, not at the next collection.
    engine?.close();
    super.release();
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message || e.name : String(e);
}
