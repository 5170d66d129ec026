// The Host interface on Node: net and tls sockets, crypto's random bytes and
// SHA-1, the event loop's timers. Nothing else lives here.

import { createHash, randomFillSync } from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import type { ConnectTarget, Host, Transport, TransportFailure, TransportHandlers } from "../../src/host.js";
import { checkPins, checkSsl, tlsConnectOptions, tlsReason } from "./tls-options.js";

/**
 * A socket as a Transport. Arriving chunks wait in `chunks` until the core
 * reads them into its rx buffer; while any wait, the socket is paused, so a
 * slow reader holds back the sender (TCP backpressure) instead of growing memory.
 */
class NodeTransport implements Transport {
  private readonly socket: net.Socket;
  private readonly handlers: TransportHandlers;
  private readonly chunks: Buffer[] = [];
  private headOffset = 0;
  private eofPending = false;
  private connected = false;
  private released = false;
  private needDrain = false;
  private corked = false;

  constructor(target: ConnectTarget, handlers: TransportHandlers) {
    this.handlers = handlers;
    const socket = target.secured
      ? tls.connect(tlsConnectOptions(target.hostname, target.port, target.ssl))
      : net.connect({ host: target.hostname, port: target.port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.once(target.secured ? "secureConnect" : "connect", () => {
      if (target.secured) {
        const pinProblem = checkPins(target.ssl, socket as tls.TLSSocket);
        if (pinProblem !== null) {
          this.fail({ kind: "tls", message: pinProblem, tlsReason: "pin_mismatch" });
          return;
        }
      }
      this.connected = true;
      if (!this.released) handlers.onConnect();
    });
    socket.on("data", (chunk: Buffer) => {
      this.chunks.push(chunk);
      if (!this.released) handlers.onReadable();
      if (this.chunks.length > 0) socket.pause();
    });
    socket.on("end", () => {
      this.eofPending = true;
      this.reportEofWhenDrained();
    });
    socket.on("drain", () => {
      this.needDrain = false;
      if (!this.released) handlers.onWritable();
    });
    socket.on("error", (err: NodeJS.ErrnoException) => this.fail(this.describe(err, target)));
    socket.on("close", () => {
      // A close with no 'end' or 'error' before it (a reset we were not told of) still ends the stream.
      if (!this.eofPending) {
        this.eofPending = true;
        this.reportEofWhenDrained();
      }
    });
  }

  read(into: Uint8Array, start: number, end: number): number {
    let o = start;
    while (o < end && this.chunks.length > 0) {
      const head = this.chunks[0];
      const n = Math.min(end - o, head.length - this.headOffset);
      into.set(head.subarray(this.headOffset, this.headOffset + n), o);
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
    if (this.needDrain) return 0;
    // Writes of one turn of the event loop leave as one writev.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    // Buffer.from copies: the core reuses its tx buffer as soon as this returns.
    if (!this.socket.write(Buffer.from(bytes))) this.needDrain = true;
    return bytes.length;
  }

  close(): void {
    this.released = true;
    this.socket.end(() => this.socket.destroy());
  }

  destroy(): void {
    this.released = true;
    this.socket.destroy();
  }

  tlsInfo(): { version: string; cipher: string; alpn: string } | null {
    if (!(this.socket instanceof tls.TLSSocket)) return null;
    const s = this.socket;
    return { version: s.getProtocol() ?? "", cipher: s.getCipher()?.name ?? "", alpn: s.alpnProtocol || "" };
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

  private describe(err: NodeJS.ErrnoException, target: ConnectTarget): TransportFailure {
    const code = err.code ?? "";
    const where = `${target.hostname}:${target.port}`;
    if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_FAIL" || code === "EAI_NONAME") {
      return { kind: "dns", message: `${target.hostname} could not be resolved (${code})` };
    }
    if (!this.connected && target.secured && (err.message.includes("SSL") || err.message.includes("certificate") || code.startsWith("ERR_SSL") || code.startsWith("ERR_TLS") || /CERT|SIGNED|ISSUER/.test(code))) {
      return { kind: "tls", message: `${where}: ${err.message}`, tlsReason: tlsReason(code) };
    }
    if (!this.connected && (code === "ECONNREFUSED" || code === "EHOSTUNREACH" || code === "ENETUNREACH" || code === "ETIMEDOUT" || code === "EADDRNOTAVAIL")) {
      return { kind: "connect", message: `${where}: ${err.message}` };
    }
    if (!this.connected && target.secured) return { kind: "tls", message: `${where}: ${err.message}`, tlsReason: tlsReason(code) };
    return { kind: this.connected ? "io" : "connect", message: `${where}: ${err.message}` };
  }
}

// Mask keys are drawn from a pool so each frame does not cost a system call.
const randomPool = Buffer.alloc(4096);
let randomPoolPos = randomPool.length;

export const nodeHost: Host = Object.freeze({
  connect(target: ConnectTarget, handlers: TransportHandlers): Transport {
    return new NodeTransport(target, handlers);
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
  setTimer(ms: number, callback: () => void): unknown {
    return setTimeout(callback, ms);
  },
  clearTimer(timer: unknown): void {
    clearTimeout(timer as NodeJS.Timeout);
  },
});
