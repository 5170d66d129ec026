// The Host interface on Moddable (ESP32, and the simulator): ECMA-419 TCP
// sockets with DNS, Moddable's TLS session, the timer module, crypt's SHA-1
// Digest and the hardware RNG behind Math.random. Nothing else lives here.
// wss:// goes through websock's mbedTLS engine where the build links it
// (mbedtls-transport.ts), else Moddable's TLS (tls-transport.ts):
// tls-engine-choice.ts decides, ssl_config.tls_engine overrides.
//
// Module state is created on first use, never while the module loads
// (STYLE rule 6): this module may be preloaded.

import { Digest } from "crypt";
import Time from "time";
import Timer from "timer";
import TextEncoder from "text/encoder";
import utf8Writer from "websock/hosts/moddable/utf8/utf8-writer";
import type { ConnectTarget, Host, TimerTarget, Transport, TransportFailure, TransportHandlers } from "websock/src/host";
import type { websock_ssl_config_t } from "websock/src/types";
import { checkSsl, sessionOptions } from "websock/hosts/moddable/ssl-options";
import { TcpTransport } from "websock/hosts/moddable/tcp-transport";
import { TlsTransport } from "websock/hosts/moddable/tls-transport";
import { chooseTlsEngine } from "websock/hosts/moddable/tls-engine-choice";
import { engineOptions } from "websock/hosts/moddable/mbedtls-options";
import { MbedTlsTransport } from "websock/hosts/moddable/mbedtls-transport";
import { later, type Deferred } from "websock/hosts/moddable/socket";

/** Math.random() is c_rand()/C_RAND_MAX; c_rand() is 31 bits: esp_random() & 0x7fffffff on ESP32. */
const RAND_MAX = 0x7fffffff;

/** 2020-01-01T00:00:00Z: a clock that reads earlier was never set. */
const CLOCK_SET_AFTER = 1577836800000;

/** A Transport that has already failed: what connect() returns when the ssl_config cannot be mapped after all. */
class FailedTransport implements Transport, Deferred {
  private readonly handlers: TransportHandlers;
  private released = false;

  constructor(handlers: TransportHandlers, message: string) {
    this.handlers = handlers;
    const failure: TransportFailure = { kind: "tls", message, tlsReason: "handshake" };
    later(this, 0, failure);
  }

  /** later()'s turn: the failure, unless the transport was released first. */
  runLater(_what: number, failure: unknown): void {
    if (!this.released) this.handlers.onError(failure as TransportFailure);
  }

  read(): number {
    return 0;
  }

  write(bytes: Uint8Array): number {
    return bytes.length;
  }

  close(): void {
    this.released = true;
  }

  destroy(): void {
    this.released = true;
  }
}

function toArrayBuffer(data: Uint8Array): ArrayBuffer {
  // crypt's Digest takes an ArrayBuffer (or a string): a view of part of one is copied.
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? (data.buffer as ArrayBuffer) : (data.slice().buffer as ArrayBuffer);
}

/** wss://: a TLS transport on the engine chooseTlsEngine picks, connecting or (with `from`) over a socket already connected. */
function tlsTransport(target: ConnectTarget, handlers: TransportHandlers, from?: object): Transport {
  const engine = chooseTlsEngine(target.ssl);
  if (engine.name === "mbedtls") {
    const chosen = engineOptions(target.ssl, target.hostname, engine.capabilities);
    if (typeof chosen === "string") return new FailedTransport(handlers, chosen);
    return new MbedTlsTransport(target.hostname, target.port, chosen, handlers, from);
  }
  const options = sessionOptions(target.ssl, target.hostname);
  if (typeof options === "string") return new FailedTransport(handlers, options);
  return new TlsTransport(target.hostname, target.port, options, handlers, from);
}

export const moddableHost: Host = Object.freeze({
  connect(target: ConnectTarget, handlers: TransportHandlers): Transport {
    if (!target.secured) return new TcpTransport(target.hostname, target.port, handlers);
    return tlsTransport(target, handlers);
  },
  /**
   * wss:// through an HTTP proxy: TLS over the tunnel's socket, moved from
   * the TCP transport that spoke CONNECT into a TLS transport with
   * ECMA-419's `from` (what it holds unread goes with it).
   */
  startTls(plain: Transport, target: ConnectTarget, handlers: TransportHandlers): Transport | string {
    if (!(plain instanceof TcpTransport)) return "startTls needs a TCP transport of this host";
    const socket = plain.detachSocket();
    if (socket === null) return "the proxy's tunnel was closed before TLS could start";
    // The same engine as a direct wss:// connection would use (the ssl_config was checked at open).
    const made = tlsTransport(target, handlers, socket);
    if (made instanceof FailedTransport) socket.close();
    return made;
  },
  /**
   * websock_attach_*: an ECMA-419 TCP socket the application has (from a
   * Listener, or one it connected), taken over with `from`.
   */
  adopt(stream: unknown, handlers: TransportHandlers): Transport | string {
    if (stream === null || typeof stream !== "object" || typeof (stream as { read?: unknown }).read !== "function") {
      return "stream must be an ECMA-419 TCP socket (embedded:io/socket/tcp), e.g. from a Listener";
    }
    return new TcpTransport("", 0, handlers, stream);
  },
  checkSsl(ssl: websock_ssl_config_t): string | null {
    // Only what the engine this connection will use cannot do is refused.
    const engine = chooseTlsEngine(ssl);
    if (engine.name === "mbedtls") {
      const chosen = engineOptions(ssl, "", engine.capabilities);
      return typeof chosen === "string" ? chosen : null;
    }
    return checkSsl(ssl);
  },
  /**
   * ESP32: Math.random() is the hardware RNG (esp_random(), truly random
   * while Wi-Fi or Bluetooth runs). The simulator: glibc rand(), never
   * seeded, so the same sequence every run (README, "Moddable").
   */
  randomFill(out: Uint8Array): void {
    let bits = 0;
    let have = 0;
    for (let i = 0; i < out.length; i++) {
      if (have < 8) {
        // Exact: the double holds r / RAND_MAX for an integer r < 2^31.
        bits = Math.round(Math.random() * RAND_MAX);
        have = 24;
      }
      out[i] = bits & 0xff;
      bits >>>= 8;
      have -= 8;
    }
  },
  sha1(data: Uint8Array): Uint8Array {
    const digest = new Digest("SHA1");
    digest.write(toArrayBuffer(data));
    return new Uint8Array(digest.close());
  },
  /** Milliseconds since boot (a 32-bit counter on ESP32: it wraps after 49.7 days). */
  now(): number {
    return Time.ticks;
  },
  /**
   * The system time (SNTP, or Time.set). An ESP32 whose clock was never set
   * reads 1970: before 2020 it is taken as not knowing the date, as the TLS
   * diagnosis does (tls-diagnosis.ts).
   */
  wallClock(): number {
    const t = Date.now();
    return t < CLOCK_SET_AFTER ? NaN : t;
  },
  setTimer(ms: number, target: TimerTarget): unknown {
    // Moddable's timer passes only its id: a closure per arm (rare: a wait that moves later keeps its timer).
    return Timer.set(() => target.onTimer(), Math.max(0, Math.ceil(ms)));
  },
  clearTimer(timer: unknown): void {
    Timer.clear(timer as ReturnType<typeof Timer.set>);
  },
  /**
   * websock's native UTF-8 writer (utf8/websock_utf8.c, plain C in every
   * build): text sends resume in the string where the last piece stopped,
   * with no substring and no result object per piece: no garbage at all.
   */
  utf8Writer,
  /** Moddable's native encoder (modules/data/text/encoder): the core uses it only without utf8Writer. */
  textEncoder: new TextEncoder(),
});
