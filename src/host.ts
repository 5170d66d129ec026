// What the pure core needs from a platform, and nothing else. A host (Node,
// Moddable, the XS test host) implements this; src/ never reaches further.

import type { TRANSPORT_ERRORS } from "./errors.js";
import type { Utf8Encoder, Utf8Writer } from "./text-cursor.js";
import type { websock_ssl_config_t } from "./types.js";

export interface ConnectTarget {
  hostname: string;
  port: number;
  secured: boolean;
  ssl: websock_ssl_config_t;
}

/** Why a transport failed; `kind` picks the WEBSOCK_ERR_* row (errors.ts, TRANSPORT_ERRORS). */
export interface TransportFailure {
  kind: keyof typeof TRANSPORT_ERRORS;
  message: string;
  /** For kind "tls": a short machine-readable reason ("untrusted_ca", "hostname_mismatch", ...). */
  tlsReason?: string;
}

/**
 * The transport's events. A host calls them on its own turns; should it call
 * onEnd or onError from inside read() (as the last bytes are taken), the
 * driver holds the end until those bytes are counted.
 */
export interface TransportHandlers {
  /** The connection (and TLS, when secured) is established. */
  onConnect(): void;
  /** Bytes have arrived: call read() until it returns 0. */
  onReadable(): void;
  /** write() took less than it was given earlier; it takes more now. */
  onWritable(): void;
  /** The peer closed its side; no more bytes will arrive. */
  onEnd(): void;
  /** The transport failed; no more callbacks follow. */
  onError(failure: TransportFailure): void;
}

/**
 * A byte stream. Reads and writes copy: the transport never keeps a view of
 * the caller's buffers, so the fixed rx and tx buffers can be reused at once.
 */
export interface Transport {
  /** Copies up to `end - start` received bytes into into[start, end); returns the count (0: none now). */
  read(into: Uint8Array, start: number, end: number): number;
  /** Takes (copies) as much of `bytes` as it can now; returns the count. Less than all: wait for onWritable. */
  write(bytes: Uint8Array): number;
  /**
   * For a transport that gathers writes into one (Node's gathers a burst):
   * sends what it has gathered now. The driver calls it when the application
   * starts to wait for input, as a terminal flushes its output before reading.
   */
  flushWrites?(): void;
  /** Ends the stream gracefully after what was written has been sent, then releases it. */
  close(): void;
  /** Releases the stream at once. */
  destroy(): void;
  /** TLS details, when the stream is TLS. */
  tlsInfo?(): { version: string; cipher: string; alpn: string } | null;
  /** True while TCP is up and the TLS handshake is not finished (names the open timeout "handshake_timeout"). */
  tlsHandshaking?(): boolean;
  /**
   * Stops using the stream without closing it and gives it back, with
   * `leftover` (bytes the core took but did not consume) and any bytes read
   * from it but not yet taken put back in front (websock_detach).
   */
  detach?(leftover: Uint8Array): unknown;
}

/** What a timer calls when it fires. */
export interface TimerTarget {
  onTimer(): void;
}

export interface Host {
  /** Starts connecting; callbacks report progress. Never throws for network errors. */
  connect(target: ConnectTarget, handlers: TransportHandlers): Transport;
  /**
   * Wraps a stream the application already has (websock_attach_*): a Transport,
   * or a message saying why `stream` cannot be used. onConnect follows at once.
   */
  adopt?(stream: unknown, handlers: TransportHandlers): Transport | string;
  /**
   * Checks ssl_config before anything is allocated: returns null when the host
   * can honour it, or a message naming the field it cannot.
   */
  checkSsl(ssl: websock_ssl_config_t): string | null;
  /** Fills `out` with cryptographically strong random bytes (mask keys, Sec-WebSocket-Key). */
  randomFill(out: Uint8Array): void;
  sha1(data: Uint8Array): Uint8Array;
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /**
   * Optional: the real-time clock, ms since 1970-01-01T00:00:00Z, or NaN
   * while the host does not know the date (an ESP32 before SNTP). Only an
   * HTTP-date Retry-After without a Date header needs it (reconnect.ts).
   */
  wallClock?(): number;
  /**
   * Calls target.onTimer() once after `ms` (at most 2^31-1: the driver re-arms for longer waits).
   * A target, not a callback: the driver need not make a closure per connection for it.
   */
  setTimer(ms: number, target: TimerTarget): unknown;
  /**
   * Optional: starts TLS for `target` over `plain`, a stream already
   * connected (an HTTP proxy's CONNECT tunnel, proxy.ts), end to end with the
   * server; `plain` is the host's own transport and is no longer used. The
   * new transport calls `handlers` back, onConnect once TLS is up. A string
   * says why it cannot. Absent: the host cannot, and wss:// through a proxy
   * is refused at open (WEBSOCK_ERR_UNSUPPORTED).
   */
  startTls?(plain: Transport, target: ConnectTarget, handlers: TransportHandlers): Transport | string;
  /** Cancels a timer that has not fired yet (never called for one that fired). */
  clearTimer(timer: unknown): void;
  /** Optional: a native UTF-8 encoder (TextEncoder), so text sends need no pure-JS walk of the string. */
  textEncoder?: Utf8Encoder | null;
  /** Optional: a native UTF-8 byte length of a string. */
  utf8Length?: ((text: string) => number) | null;
  /**
   * Optional: a native UTF-8 writer that resumes in the string where it
   * stopped and allocates nothing (text-cursor.ts, Utf8Writer). Where a host
   * has it, text sends use it instead of textEncoder and utf8Length: on XS,
   * encodeInto needs a substring per piece (chunk garbage, and O(position)
   * to locate, as XS keeps strings as UTF-8) and returns a fresh {read,
   * written} each call. The Moddable host's is websock_utf8.c
   * (hosts/moddable/utf8); Node has none (TextEncoder is its answer).
   */
  utf8Writer?: Utf8Writer | null;
  /**
   * Optional: compression for what this side sends (permessage-deflate's
   * deflate.compress), with an LZ77 window of at most 2^windowBits bytes. The
   * core never needs it: without it, messages go out uncompressed (RFC 7692 §6).
   */
  deflate?: ((windowBits: number) => MessageCompressor) | null;
}

/** Compresses one message's payload for permessage-deflate. */
export interface MessageCompressor {
  /**
   * bytes[start, end) as raw DEFLATE, flushed to a byte boundary with the
   * trailing 00 00 ff ff removed (RFC 7692 §7.2.1); each message on its own
   * or on the previous ones' history, as the host likes (both are valid).
   */
  compress(bytes: Uint8Array, start: number, end: number): Uint8Array;
}
