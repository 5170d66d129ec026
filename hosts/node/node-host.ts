// The Host interface on Node: net and tls sockets, crypto's random bytes and
// SHA-1, the event loop's timers. Nothing else lives here.

import { createHash, randomFillSync } from "node:crypto";
import net from "node:net";
import { Duplex } from "node:stream";
import tls from "node:tls";
import type { ConnectTarget, Host, TimerTarget, Transport, TransportFailure, TransportHandlers } from "../../src/host.js";
import { nodeDeflate } from "./deflate.js";
import { TLS_REASON, checkPins, checkSsl, isTlsErrorCode, tlsConnectOptions, tlsReason } from "./tls-options.js";

/** The socket's own read buffer (net's `onread`), made once per connection: Node's default read size. */
const READ_BUFFER_SIZE = 65536;
/** The slab the writes of a turn are gathered in (see write); a write of half of it or more is copied alone. */
const OUT_SLAB_SIZE = 65536;
/** Gathered bytes leave at once when they reach this: net's default writableHighWaterMark. */
const OUT_FLUSH_AT = 16384;

/**
 * A socket as a Transport. A socket websock connects reads into one buffer
 * of its own (net's and tls's `onread`): each read is handed to the core
 * while Node's buffer holds it, with no Buffer made per read and no pass
 * through the Readable stream's machinery. A stream websock was given
 * (websock_attach_*, or TLS over a proxy's tunnel) is read through its 'data'
 * events instead. Either way, what the core cannot take yet (its rx buffer is
 * full) waits in `chunks`, copied, and the socket is paused (for an onread
 * socket, net stops reading) until it is taken, so a slow reader holds back
 * the sender (TCP backpressure) instead of growing memory.
 */
class NodeTransport implements Transport {
  private readonly socket: Duplex;
  /** Our listeners, removed again by detach(). */
  private readonly listeners: Array<[string, (...args: never[]) => void]> = [];
  private readonly handlers: TransportHandlers;
  private readonly target: ConnectTarget;
  private readonly chunks: Buffer[] = [];
  private headOffset = 0;
  private eofPending = false;
  private connected = false;
  private released = false;
  private needDrain = false;
  /** The read being handed to the core (received), valid during that call only: buf[inReadStart, inReadEnd) is not yet taken. */
  private inRead: Buffer | null = null;
  private inReadStart = 0;
  private inReadEnd = 0;
  /**
   * Writes not yet handed to the socket: out[outStart, outEnd). A region
   * handed over is never written again (the socket holds it until it is
   * sent); a full slab is left to the writes that hold it, and a new one made.
   */
  private out: Buffer | null = null;
  private outStart = 0;
  private outEnd = 0;
  /** The turn's end is due to flush (process.nextTick): one at a time. */
  private turnEndDue = false;
  /** A write went straight to the socket since input last came (see write). */
  private wroteSinceInput = false;

  // TLS progress, for telling apart what went wrong (see tlsHangUp and describe).
  /** The TCP connection is up (when secured: the TLS handshake is under way until `connected`). */
  private tcpConnected = false;
  /** The first key was derived: the server's hello was accepted (TLS 1.2: our last flight is out). */
  private keysAgreed = false;
  /** Any application byte arrived. */
  private gotData = false;
  /** Captured when the handshake finished, so it outlives the socket. */
  private tlsDetails: { version: string; cipher: string; alpn: string } | null = null;

  /** Connects to `target`. */
  static connect(target: ConnectTarget, handlers: TransportHandlers): NodeTransport {
    let transport: NodeTransport | null = null;
    // The socket exists before the transport does: the callback finds it through the binding.
    const onread = { buffer: Buffer.allocUnsafe(READ_BUFFER_SIZE), callback: (n: number, buf: Buffer): boolean => transport!.received(n, buf) };
    const socket = target.secured
      ? // tls.connect takes net's onread too (Node's documentation of tls.connect); @types/node leaves it out.
        tls.connect({ ...tlsConnectOptions(target.hostname, target.port, target.ssl), onread } as tls.ConnectionOptions)
      : net.connect({ host: target.hostname, port: target.port, onread });
    transport = new NodeTransport(socket, target, handlers, false);
    return transport;
  }

  /**
   * A read of the socket's own buffer (onread): the core takes what it can
   * from buf[0, nread) now, through read(); the rest is copied to `chunks`
   * and the socket is paused, as on the 'data' path, until read() has given it all.
   */
  private received(nread: number, buf: Buffer): boolean {
    if (this.released) {
      // Handed back (websock_detach), or done with: the bytes go to the stream, as a plain socket's would.
      this.socket.push(Buffer.from(buf.subarray(0, nread)));
      return true;
    }
    this.gotData = true;
    this.wroteSinceInput = false;
    this.inRead = buf;
    this.inReadStart = 0;
    this.inReadEnd = nread;
    try {
      this.handlers.onReadable();
    } finally {
      // Node reads into buf again after this returns: no view of it outlives the call.
      this.inRead = null;
    }
    if (this.inReadStart < this.inReadEnd) {
      this.chunks.push(Buffer.from(buf.subarray(this.inReadStart, this.inReadEnd)));
      this.headOffset = 0;
      this.socket.pause();
    }
    return true;
  }

  /**
   * TLS to `target` over `plain`'s socket (an HTTP proxy's tunnel): the
   * socket is taken from `plain` (its listeners removed) and TLS runs on it,
   * end to end with the server, verified as a direct connection would be.
   */
  static overTunnel(plain: NodeTransport, target: ConnectTarget, handlers: TransportHandlers): NodeTransport {
    const socket = plain.detach(new Uint8Array(0)) as Duplex;
    const secure = tls.connect({ ...tlsConnectOptions(target.hostname, target.port, target.ssl), socket });
    const t = new NodeTransport(secure, target, handlers, false);
    // TCP is up already (to the proxy, and through it to the server).
    t.tcpConnected = true;
    return t;
  }

  /** Wraps a socket or Duplex the application already has (websock_attach_*). */
  static adopt(stream: Duplex, handlers: TransportHandlers): NodeTransport {
    const socket = stream instanceof net.Socket ? stream : null;
    const target = { hostname: socket?.remoteAddress ?? "stream", port: socket?.remotePort ?? 0, secured: false, ssl: {} };
    return new NodeTransport(stream, target, handlers, true);
  }

  private constructor(stream: Duplex, target: ConnectTarget, handlers: TransportHandlers, adopted: boolean) {
    this.handlers = handlers;
    this.target = target;
    this.socket = stream;
    this.listen("data", (chunk: Buffer) => {
      this.gotData = true;
      this.wroteSinceInput = false;
      this.chunks.push(chunk);
      if (!this.released) handlers.onReadable();
      if (this.chunks.length > 0) stream.pause();
    });
    this.listen("end", () => this.ended());
    this.listen("drain", () => {
      this.needDrain = false;
      if (!this.released) handlers.onWritable();
    });
    this.listen("error", (err: NodeJS.ErrnoException) => this.fail(this.describe(err)));
    // A close with no 'end' or 'error' before it (a reset we were not told of) still ends the stream.
    this.listen("close", () => this.ended());
    if (stream instanceof net.Socket) stream.setNoDelay(true);
    if (adopted) {
      this.adopted(stream);
      return;
    }
    const socket = stream as net.Socket;
    // Snapshots: the caller may change its ssl_config object while we connect.
    const pins = target.ssl.pin_sha256?.slice();
    socket.once("connect", () => {
      this.tcpConnected = true;
    });
    if (target.secured) {
      // Only the fact matters; the key material in the line is dropped at once.
      socket.once("keylog", () => {
        this.keysAgreed = true;
      });
    }
    socket.once(target.secured ? "secureConnect" : "connect", () => {
      if (this.released) return;
      if (target.secured) {
        const t = socket as tls.TLSSocket;
        let pinProblem: string | null;
        try {
          pinProblem = checkPins(pins, t);
        } catch (e) {
          pinProblem = `the server's certificate could not be checked against pin_sha256: ${String(e)}`;
        }
        if (pinProblem !== null) {
          // Pinning holds with verify false too: nothing is sent to a server that fails it.
          this.fail({ kind: "tls", message: `${this.where()}: ${pinProblem}`, tlsReason: TLS_REASON.PIN_MISMATCH });
          return;
        }
        const cipher = t.getCipher();
        this.tlsDetails = { version: t.getProtocol() ?? "", cipher: cipher?.standardName || cipher?.name || "", alpn: t.alpnProtocol || "" };
      }
      this.connected = true;
      handlers.onConnect();
    });
  }

  /** An adopted stream is connected already (or about to be): onConnect follows, never from inside adopt(). */
  private adopted(stream: Duplex): void {
    this.tcpConnected = true;
    const ready = (): void => {
      if (this.released) return;
      this.connected = true;
      this.handlers.onConnect();
    };
    if (stream instanceof net.Socket && stream.connecting) stream.once("connect", ready);
    else setImmediate(ready);
  }

  private listen(event: string, fn: (...args: never[]) => void): void {
    this.listeners.push([event, fn]);
    this.socket.on(event, fn as (...args: unknown[]) => void);
  }

  /** Hands the stream back, paused, with `leftover` and the bytes read but not taken put back in front, in order. */
  detach(leftover: Uint8Array): unknown {
    this.flushWrites();
    this.released = true;
    const stream = this.socket;
    stream.pause();
    for (const [event, fn] of this.listeners) stream.off(event, fn as (...args: unknown[]) => void);
    for (let i = this.chunks.length - 1; i >= 0; i--) stream.unshift(i === 0 ? this.chunks[0].subarray(this.headOffset) : this.chunks[i]);
    if (leftover.length > 0) stream.unshift(Buffer.from(leftover));
    this.chunks.length = 0;
    return stream;
  }

  /** True while TCP is up and the TLS handshake is not finished (the open timer asks, to say where time ran out). */
  tlsHandshaking(): boolean {
    return this.target.secured && this.tcpConnected && !this.connected && !this.released;
  }

  read(into: Uint8Array, start: number, end: number): number {
    const inRead = this.inRead;
    if (inRead !== null) {
      // Inside received(): `chunks` is empty (the socket is paused while it holds anything).
      const n = Math.min(end - start, this.inReadEnd - this.inReadStart);
      // A Uint8Array over the read's memory, not subarray(): a Buffer's subarray looks up its species and makes a Buffer.
      into.set(new Uint8Array(inRead.buffer, inRead.byteOffset + this.inReadStart, n), start);
      this.inReadStart += n;
      return n;
    }
    let o = start;
    while (o < end && this.chunks.length > 0) {
      const head = this.chunks[0];
      const n = Math.min(end - o, head.length - this.headOffset);
      // A whole chunk is copied as it is: no subarray (a new Buffer object) for the common case.
      if (n === head.length) into.set(head, o);
      else into.set(head.subarray(this.headOffset, this.headOffset + n), o);
      o += n;
      this.headOffset += n;
      if (this.headOffset === head.length) {
        this.chunks.shift();
        this.headOffset = 0;
      }
    }
    if (this.chunks.length === 0) {
      if (this.socket.isPaused() && !this.released) this.socket.resume();
      this.reportEofWhenDrained();
    }
    return o - start;
  }

  write(bytes: Uint8Array): number {
    if (this.released) return bytes.length;
    if (!this.socket.writable) {
      // The peer's FIN ended our side too (allowHalfOpen is off), or the socket is gone: nothing more
      // can leave, and no 'drain' or 'error' would ever say so. What it sent before is still read.
      this.fail({ kind: "io", message: `${this.where()}: the peer closed the connection; nothing more can be sent` });
      return 0;
    }
    if (this.needDrain) return 0;
    // The first write since input last came leaves at once: it usually answers that input (the
    // next message of an exchange, a pong), and one message at a time should wait for nothing.
    // The writes after it, until input comes again, are a burst: they are gathered into one slab
    // and leave as one socket.write at the turn's end, when the application starts to wait for
    // input (flushWrites), or once they reach OUT_FLUSH_AT. Not net's cork(), which gathered
    // every write of a turn: with client and server pinned to a core each, this round trip is
    // 5-7 µs shorter than the corked one and its client's CPU 2-3 µs less, at the same throughput.
    const n = bytes.length;
    if (!this.wroteSinceInput || n >= OUT_SLAB_SIZE / 2) {
      this.wroteSinceInput = true;
      this.flushWrites();
      // A copy: the core reuses its tx buffer as soon as this returns. allocUnsafe and set, not
      // Buffer.from, which first asks what kind of object it was given (about 50 ns more at 16 B).
      const copy = Buffer.allocUnsafe(n);
      copy.set(bytes);
      if (!this.socket.write(copy)) this.needDrain = true;
      return n;
    }
    let out = this.out;
    if (out === null || this.outEnd + n > out.length) {
      this.flushWrites();
      out = this.out = Buffer.allocUnsafeSlow(OUT_SLAB_SIZE);
      this.outStart = this.outEnd = 0;
    }
    out.set(bytes, this.outEnd);
    this.outEnd += n;
    if (this.outEnd - this.outStart >= OUT_FLUSH_AT) this.flushWrites();
    else if (!this.turnEndDue) {
      this.turnEndDue = true;
      process.nextTick(this.flushAtTurnEnd);
    }
    return n;
  }

  flushWrites(): void {
    if (this.outEnd === this.outStart) return;
    const gathered = this.out!.subarray(this.outStart, this.outEnd);
    this.outStart = this.outEnd;
    if (!this.socket.write(gathered)) this.needDrain = true;
  }

  /** Made once, not a closure per turn. */
  private readonly flushAtTurnEnd = (): void => {
    this.turnEndDue = false;
    if (!this.released) this.flushWrites();
  };

  close(): void {
    this.flushWrites();
    this.released = true;
    this.socket.end(() => this.socket.destroy());
  }

  destroy(): void {
    this.released = true;
    this.socket.destroy();
  }

  /** The TLS version, the cipher suite (its IANA name) and the ALPN protocol ("" for none). */
  tlsInfo(): { version: string; cipher: string; alpn: string } | null {
    return this.tlsDetails === null ? null : { ...this.tlsDetails };
  }

  private where(): string {
    return `${this.target.hostname}:${this.target.port}`;
  }

  private ended(): void {
    if (this.eofPending || this.released) return;
    const hangUp = this.tlsHangUp();
    if (hangUp !== null) {
      this.fail(hangUp);
      return;
    }
    this.eofPending = true;
    this.reportEofWhenDrained();
  }

  /**
   * A server that hangs up without an alert, where that is a TLS failure and
   * not an end of stream: during the handshake; or, under TLS 1.3 with a
   * client certificate, after the handshake and before saying anything.
   * Servers that check the client certificate themselves after the handshake
   * (Node's rejectUnauthorized, for one) refuse it that way: in TLS 1.3 the
   * client's handshake ends before the server has seen its certificate
   * (RFC 8446 §4.4.2), so "client_cert_rejected" there is an inference, and
   * the message says so. Null when none of this applies.
   */
  private tlsHangUp(): TransportFailure | null {
    const { secured, ssl } = this.target;
    if (!secured || !this.tcpConnected) return null;
    const clientCert = ssl.cert !== undefined;
    if (!this.connected) {
      if (clientCert && this.keysAgreed) {
        return {
          kind: "tls",
          message: `${this.where()}: the server closed the connection during the TLS handshake, after our certificate was sent: it most likely refused the client certificate`,
          tlsReason: TLS_REASON.CLIENT_CERT_REJECTED,
        };
      }
      return { kind: "tls", message: `${this.where()}: the server closed the connection during the TLS handshake`, tlsReason: TLS_REASON.HANDSHAKE };
    }
    if (clientCert && !this.gotData && this.tlsDetails?.version === "TLSv1.3") {
      return {
        kind: "tls",
        message: `${this.where()}: the server closed the connection right after the TLS 1.3 handshake, before any response: it most likely refused the client certificate`,
        tlsReason: TLS_REASON.CLIENT_CERT_REJECTED,
      };
    }
    return null;
  }

  private reportEofWhenDrained(): void {
    if (!this.eofPending || this.chunks.length > 0 || this.released) return;
    this.released = true;
    // Not from inside read(): the core may be in the middle of a call.
    setImmediate(() => this.handlers.onEnd());
  }

  private fail(failure: TransportFailure): void {
    if (this.released) return;
    this.released = true;
    this.socket.destroy();
    this.handlers.onError(failure);
  }

  private describe(err: NodeJS.ErrnoException): TransportFailure {
    const code = err.code ?? "";
    const where = this.where();
    const { hostname, secured, ssl } = this.target;
    if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_FAIL" || code === "EAI_NONAME") {
      return { kind: "dns", message: `${hostname} could not be resolved (${code})` };
    }
    // An alert or a failed certificate check is TLS until the server's first byte: under
    // TLS 1.3 its verdict on our certificate arrives after our side of the handshake is done.
    // Later (a bad record mid-stream) it is the stream failing: io, with the code in the message.
    if (secured && !this.gotData && isTlsErrorCode(code)) {
      return { kind: "tls", message: `${where}: ${tlsErrorText(err)}`, tlsReason: tlsReason(code, { keysAgreed: this.keysAgreed, clientCert: ssl.cert !== undefined }) };
    }
    if (!this.tcpConnected) return { kind: "connect", message: `${where}: ${err.message}` };
    // A reset instead of an end: the same hang-up, the same reading of it.
    const hangUp = this.tlsHangUp();
    if (hangUp !== null) return { ...hangUp, message: `${hangUp.message} (${code || err.message})` };
    return { kind: this.connected ? "io" : "connect", message: `${where}: ${err.message}` };
  }
}

/** An OpenSSL error's reason ("tlsv13 alert certificate required"), not its file and line, with Node's code. */
function tlsErrorText(err: NodeJS.ErrnoException): string {
  const reason = (err as { reason?: unknown }).reason;
  const text = typeof reason === "string" && reason !== "" ? reason : err.message;
  return err.code !== undefined && !text.includes(err.code) ? `${text} (${err.code})` : text;
}

function fireTimer(target: TimerTarget): void {
  target.onTimer();
}

// Mask keys are drawn from a pool so each frame does not cost a system call.
const randomPool = Buffer.alloc(4096);
let randomPoolPos = randomPool.length;

export const nodeHost: Host = Object.freeze({
  connect(target: ConnectTarget, handlers: TransportHandlers): Transport {
    return NodeTransport.connect(target, handlers);
  },
  startTls(plain: Transport, target: ConnectTarget, handlers: TransportHandlers): Transport | string {
    if (!(plain instanceof NodeTransport)) return "startTls needs a transport of this host";
    return NodeTransport.overTunnel(plain, target, handlers);
  },
  adopt(stream: unknown, handlers: TransportHandlers): Transport | string {
    if (!(stream instanceof Duplex) || stream.destroyed) return "stream must be an open net.Socket or stream.Duplex";
    return NodeTransport.adopt(stream, handlers);
  },
  checkSsl,
  randomFill(out: Uint8Array): void {
    if (out.length > 256) {
      randomFillSync(out);
      return;
    }
    if (randomPoolPos + out.length > randomPool.length) {
      randomFillSync(randomPool);
      randomPoolPos = 0;
    }
    for (let i = 0; i < out.length; i++) out[i] = randomPool[randomPoolPos++];
  },
  sha1(data: Uint8Array): Uint8Array {
    return new Uint8Array(createHash("sha1").update(data).digest());
  },
  now(): number {
    return performance.now();
  },
  wallClock(): number {
    return Date.now();
  },
  setTimer(ms: number, target: TimerTarget): unknown {
    return setTimeout(fireTimer, ms, target);
  },
  clearTimer(timer: unknown): void {
    clearTimeout(timer as NodeJS.Timeout);
  },
  // Native UTF-8 for text sends: V8's encoder and length, no walk of the string in JS.
  textEncoder: new TextEncoder(),
  utf8Length(text: string): number {
    return Buffer.byteLength(text, "utf8");
  },
  // permessage-deflate's deflate.compress: node:zlib (hosts/node/deflate.ts).
  deflate: nodeDeflate,
});
